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
/** Normalises features with batch statistics while training and moving averages at inference. */
export const batchNormalization = (args: BatchNormalizationArgs = {}): BatchNormalization => new BatchNormalization(args);

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
export { Activation, Dense, Dropout, Flatten, Conv2D, MaxPooling2D, AveragePooling2D, SimpleRNN, BatchNormalization, Merge, Add, Multiply, Average, Concatenate, InputLayer };
export type { ConcatenateArgs, InputArgs };
export type { ActivationArgs, DenseArgs, DropoutArgs, Conv2DArgs, Pooling2DArgs, SimpleRNNArgs, BatchNormalizationArgs };
export type { InitializerSpec, InitializerFn, RegularizerLike } from './config.js';
