// The `layers` namespace: one factory per layer, named as in TF.js (`layers.dense({ units })`).
// Importing this file also registers every layer class for `loadModel`.
import { Activation, Dense, Dropout, Flatten, type ActivationArgs, type DenseArgs, type DropoutArgs } from './core.js';
import { Conv2D, type Conv2DArgs } from './convolutional.js';
import type { LayerArgs } from './layer.js';
import { BatchNormalization, type BatchNormalizationArgs } from './normalization.js';
import { AveragePooling2D, MaxPooling2D, type Pooling2DArgs } from './pooling.js';
import { SimpleRNN, type SimpleRNNArgs } from './recurrent.js';
import { Add, Average, Concatenate, Merge, Multiply, type ConcatenateArgs } from './merge.js';
import { InputLayer, type InputArgs } from './input.js';
import { LSTM, type LSTMArgs } from './lstm.js';
import { GRU, type GRUArgs } from './gru.js';
import { Permute, RepeatVector, Reshape, UpSampling2D, ZeroPadding2D } from './reshaping.js';
import type { PermuteArgs, RepeatVectorArgs, ReshapeArgs, UpSampling2DArgs, ZeroPadding2DArgs } from './reshaping.js';
import { Conv2DTranspose, type Conv2DTransposeArgs } from './conv-transpose.js';
import { DepthwiseConv2D, SeparableConv2D, type DepthwiseConv2DArgs, type SeparableConv2DArgs } from './depthwise-conv.js';
import { GlobalAveragePooling2D, GlobalMaxPooling2D, type GlobalPooling2DArgs } from './global-pooling.js';
import { Embedding, type EmbeddingArgs } from './embedding.js';
import { LayerNormalization, type LayerNormalizationArgs } from './layer-normalization.js';

/** Fully connected layer: activation(x·kernel + bias). */
export const dense = (args: DenseArgs): Dense => new Dense(args);
/** 2-D convolution over NHWC images. */
export const conv2d = (args: Conv2DArgs): Conv2D => new Conv2D(args);
/** Max over 2-D windows. */
export const maxPooling2d = (args: Pooling2DArgs = {}): MaxPooling2D => new MaxPooling2D(args);
/** Mean over 2-D windows. */
export const averagePooling2d = (args: Pooling2DArgs = {}): AveragePooling2D => new AveragePooling2D(args);
/** Flattens each example to a vector. */
export const flatten = (args: LayerArgs = {}): Flatten => new Flatten(args);
/** Zeroes a random fraction of inputs while training. */
export const dropout = (args: DropoutArgs): Dropout => new Dropout(args);
/** An activation function as a layer. */
export const activation = (args: ActivationArgs): Activation => new Activation(args);
/** Fully connected recurrent layer (tanh by default), unrolled over time. */
export const simpleRNN = (args: SimpleRNNArgs): SimpleRNN => new SimpleRNN(args);
/** Long short-term memory (TF.js's gate layout i, f, c, o), unrolled over time. */
export const lstm = (args: LSTMArgs): LSTM => new LSTM(args);
/** Gated recurrent unit (TF.js's gate layout z, r, h; `resetAfter` for Keras 2.x/3 weights), unrolled over time. */
export const gru = (args: GRUArgs): GRU => new GRU(args);
/** Normalises features with batch statistics while training and moving averages at inference. */
export const batchNormalization = (args: BatchNormalizationArgs = {}): BatchNormalization => new BatchNormalization(args);
/** Reshapes each example to `targetShape` (one dim may be -1). */
export const reshape = (args: ReshapeArgs): Reshape => new Reshape(args);
/** Permutes the dims of each example (`dims` 1-based, the batch dim stays first). */
export const permute = (args: PermuteArgs): Permute => new Permute(args);
/** Repeats a [batch, features] input n times: [batch, n, features]. */
export const repeatVector = (args: RepeatVectorArgs): RepeatVector => new RepeatVector(args);
/** Pads NHWC images with rows and columns of zeros. */
export const zeroPadding2d = (args: ZeroPadding2DArgs = {}): ZeroPadding2D => new ZeroPadding2D(args);
/** Repeats each pixel of NHWC images (nearest-neighbour upsampling by `size`, default 2). */
export const upSampling2d = (args: UpSampling2DArgs = {}): UpSampling2D => new UpSampling2D(args);
/** Transposed 2-D convolution over NHWC images (kernel [kh, kw, filters, inChannels]): upsamples by its strides. */
export const conv2dTranspose = (args: Conv2DTransposeArgs): Conv2DTranspose => new Conv2DTranspose(args);
/** Depthwise 2-D convolution: each channel convolved with its own `depthMultiplier` filters. */
export const depthwiseConv2d = (args: DepthwiseConv2DArgs): DepthwiseConv2D => new DepthwiseConv2D(args);
/** Depthwise-separable 2-D convolution: depthwise, then a 1×1 convolution to `filters` channels. */
export const separableConv2d = (args: SeparableConv2DArgs): SeparableConv2D => new SeparableConv2D(args);
/** The mean of each channel over an NHWC image: [batch, c]. */
export const globalAveragePooling2d = (args: GlobalPooling2DArgs = {}): GlobalAveragePooling2D => new GlobalAveragePooling2D(args);
/** The max of each channel over an NHWC image: [batch, c]. */
export const globalMaxPooling2d = (args: GlobalPooling2DArgs = {}): GlobalMaxPooling2D => new GlobalMaxPooling2D(args);
/** A learned vector per integer token: [batch, …] → [batch, …, outputDim]. */
export const embedding = (args: EmbeddingArgs): Embedding => new Embedding(args);
/** Normalises each example over the last axis (or `axis`), then scales and shifts. */
export const layerNormalization = (args: LayerNormalizationArgs = {}): LayerNormalization => new LayerNormalization(args);

/** Merge layer: the sum of its inputs (apply it to a list: `layers.add().apply([a, b])`). */
export const add = (args: LayerArgs = {}): Add => new Add(args);
/** Merge layer: the elementwise product of its inputs. */
export const multiply = (args: LayerArgs = {}): Multiply => new Multiply(args);
/** Merge layer: the elementwise mean of its inputs. */
export const average = (args: LayerArgs = {}): Average => new Average(args);
/** Merge layer: its inputs joined along `axis` (default the last). */
export const concatenate = (args: ConcatenateArgs = {}): Concatenate => new Concatenate(args);
/** The layer behind `input()` (a functional model's entry). */
export const inputLayer = (args: InputArgs): InputLayer => new InputLayer(args);

export { Layer, type LayerArgs, type ApplyArgs, type Shape, type LayerConfigJson } from './layer.js';
export { Activation, Dense, Dropout, Flatten, Conv2D, MaxPooling2D, AveragePooling2D, SimpleRNN, BatchNormalization };
export { Merge, Add, Multiply, Average, Concatenate, InputLayer };
export type { ConcatenateArgs, InputArgs };
export { Reshape, Permute, RepeatVector, ZeroPadding2D, GlobalAveragePooling2D, GlobalMaxPooling2D, Embedding, LayerNormalization, LSTM, GRU, UpSampling2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D };
export type { ActivationArgs, DenseArgs, DropoutArgs, Conv2DArgs, Pooling2DArgs, SimpleRNNArgs, BatchNormalizationArgs };
export type { ReshapeArgs, PermuteArgs, RepeatVectorArgs, ZeroPadding2DArgs, GlobalPooling2DArgs, EmbeddingArgs, LayerNormalizationArgs, LSTMArgs, GRUArgs, UpSampling2DArgs, Conv2DTransposeArgs, DepthwiseConv2DArgs, SeparableConv2DArgs };
export type { InitializerSpec, InitializerFn, RegularizerLike } from './config.js';
