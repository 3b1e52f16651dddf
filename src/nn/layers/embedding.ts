// Embedding: looks up a learned vector per integer token, [batch, …] → [batch, …, outputDim].
// A gather of the embeddings' rows, whose gradient scatter-adds into the rows that were read.
// Float inputs are cast to int32 first, as TF.js does; indices outside [0, inputDim) give zeros.
import { ArgumentError } from '../../errors.js';
import { cast } from '../../ops/create.js';
import { gather, reshape } from '../../ops/transform.js';
import type { Tensor, Variable } from '../../tensor.js';
import { ConfigReader, initializerJson, positiveInt, regularizerJson, type InitializerSpec, type RegularizerLike } from './config.js';
import { Layer, registerLayer, type LayerArgs, type Shape } from './layer.js';

/** Options of `layers.embedding`. */
export interface EmbeddingArgs extends LayerArgs {
  /** Size of the vocabulary: the largest index + 1. */
  inputDim: number;
  /** Length of each embedding vector. */
  outputDim: number;
  /** Default 'randomUniform' (±0.05, as Keras). */
  embeddingsInitializer?: InitializerSpec;
  embeddingsRegularizer?: RegularizerLike | null;
  /** Length of the input sequences, when constant: sets the input shape [inputLength]. */
  inputLength?: number;
  /** Seed of the initializer. */
  seed?: number;
}

/** Maps integer tokens to learned dense vectors. */
export class Embedding extends Layer {
  readonly className = 'Embedding';
  readonly inputDim: number;
  readonly outputDim: number;
  readonly inputLength?: number;
  private readonly args: EmbeddingArgs;
  embeddings: Variable | null = null;

  constructor(args: EmbeddingArgs) {
    const declared = args.inputShape ?? args.batchInputShape;
    super(declared || args.inputLength === undefined ? args : { ...args, inputShape: [args.inputLength] }, 'Embedding');
    const where = `Embedding '${this.name}'`;
    this.inputDim = positiveInt(args.inputDim, `${where}: inputDim`);
    this.outputDim = positiveInt(args.outputDim, `${where}: outputDim`);
    if (args.inputLength !== undefined) this.inputLength = positiveInt(args.inputLength, `${where}: inputLength`);
    this.args = args;
  }

  protected override build(): void {
    this.embeddings = this.addWeight('embeddings', [this.inputDim, this.outputDim], this.args.embeddingsInitializer ?? 'randomUniform', {
      regularizer: this.args.embeddingsRegularizer,
      seed: this.args.seed,
    });
  }

  protected forward(x: Tensor): Tensor {
    const indices = x.dtype === 'int32' ? x : cast(x, 'int32');
    const rows = gather(this.embeddings!, reshape(indices, [-1]));
    return reshape(rows, [...x.shape, this.outputDim]);
  }

  computeOutputShape(inputShape: Shape): Shape {
    return [...inputShape, this.outputDim];
  }

  protected layerConfig(): Record<string, unknown> {
    return {
      input_dim: this.inputDim,
      output_dim: this.outputDim,
      embeddings_initializer: initializerJson(this.args.embeddingsInitializer ?? 'randomUniform', this.args.seed),
      embeddings_regularizer: regularizerJson(this.args.embeddingsRegularizer),
      activity_regularizer: null,
      embeddings_constraint: null,
      mask_zero: false,
      input_length: this.inputLength ?? null,
    };
  }

  static fromConfig(c: ConfigReader): Embedding {
    if (c.bool('mask_zero', false)) throw new ArgumentError('mask_zero: true is not supported (Neurite has no masking)');
    return new Embedding({
      ...c.base(),
      inputDim: c.int('input_dim'),
      outputDim: c.int('output_dim'),
      inputLength: c.optionalInt('input_length'),
      embeddingsInitializer: c.initializer('embeddings_initializer', 'randomUniform'),
      embeddingsRegularizer: c.regularizer('embeddings_regularizer'),
    });
  }
}

registerLayer('Embedding', (c) => Embedding.fromConfig(c));
