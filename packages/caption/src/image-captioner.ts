import { createSession, type SessionOptions } from '@vad/clip';
import * as ort from 'onnxruntime-node';
import { type CaptionImage, imagesToPixelValues } from './caption-image.js';
import { CaptionTokenizer } from './caption-tokenizer.js';
import {
  type CaptionerManifest,
  type CaptionerSpec,
  getCaptionerSpec,
  loadCaptionerManifest,
  resolveCaptionerPaths,
} from './captioner-manifest.js';
import { type DecoderIo, type DecoderLayout, describeDecoder, signatureOf } from './decoder-io.js';
import { DecoderRunner } from './decoder-runner.js';
import { generate } from './generation.js';

export interface Caption {
  /** The caption, special tokens skipped, trimmed. */
  text: string;
  /** The generated tokens as the vocabulary spells them (without the start and end tokens). */
  tokens: string[];
  tokenIds: number[];
  /** Greedy: summed log-probability; beam search: the length-normalised beam score. */
  score: number;
  /** False when the caption was cut at maxNewTokens (no end token). */
  finished: boolean;
}

export interface CaptionOptions {
  /** Images per encoder run and decode loop (default 8). */
  batchSize?: number;
  /** Default: the spec's generation.maxNewTokens. */
  maxNewTokens?: number;
  /** 1: greedy (the default unless the spec says otherwise); more: beam search. */
  numBeams?: number;
  lengthPenalty?: number;
}

export interface CaptionerLoadOptions {
  /** Use this spec instead of the manifest's (e.g. another decoder layout of the same files). */
  spec?: CaptionerSpec;
  manifest?: CaptionerManifest;
}

/**
 * An image captioner in Hugging Face Optimum's encoder-decoder layout,
 * through onnxruntime: the encoder once per batch of images, then a greedy
 * (or beam) decode loop over the decoder, with its KV cache when the export
 * has one. The decoder layout is found from the sessions' inputs.
 */
export class ImageCaptioner {
  private constructor(
    readonly name: string,
    readonly spec: CaptionerSpec,
    /** The provider the sessions run on. */
    readonly provider: 'cpu' | 'cuda',
    private readonly encoder: ort.InferenceSession,
    private readonly decoders: { first: ort.InferenceSession; withPast?: ort.InferenceSession | undefined },
    private readonly io: DecoderIo,
    private readonly tokenizer: CaptionTokenizer,
    private readonly encoderInput: string,
    private readonly encoderOutput: string,
  ) {}

  /**
   * Loads the captioner `name` installed in `<modelDir>/<name>/`; throws
   * CaptionerNotInstalledError (with the command that installs it) when
   * files are missing.
   */
  static async load(
    modelDir: string,
    name: string,
    sessionOptions: SessionOptions,
    options: CaptionerLoadOptions = {},
  ): Promise<ImageCaptioner> {
    const spec = options.spec ?? getCaptionerSpec(name, options.manifest ?? loadCaptionerManifest());
    const paths = resolveCaptionerPaths(modelDir, name, spec);
    const tokenizer = await CaptionTokenizer.load(paths.tokenizer, paths.tokenizerConfig);
    const opened: ort.InferenceSession[] = [];
    const open = async (path: string) => {
      const loaded = await createSession(path, sessionOptions);
      opened.push(loaded.session);
      return loaded;
    };
    try {
      const encoder = await open(paths.encoder);
      const first = (await open(paths.decoder)).session;
      const withPast = paths.decoderWithPast ? (await open(paths.decoderWithPast)).session : undefined;
      const io = describeDecoder(signatureOf(first), withPast ? signatureOf(withPast) : undefined);
      const input = encoder.session.inputNames.includes('pixel_values')
        ? 'pixel_values'
        : encoder.session.inputNames[0];
      const inputType = encoder.session.inputMetadata.find((m) => m.name === input);
      if (!input || (inputType?.isTensor && inputType.type !== 'float32'))
        throw new Error(`captioner "${name}": the encoder's input ${input} is not float32 pixel values`);
      const outputs = encoder.session.outputNames;
      const output = outputs.includes('last_hidden_state') ? 'last_hidden_state' : outputs[0];
      if (!output) throw new Error(`captioner "${name}": the encoder has no outputs`);
      return new ImageCaptioner(
        name,
        spec,
        encoder.provider,
        encoder.session,
        { first, withPast },
        io,
        tokenizer,
        input,
        output,
      );
    } catch (error) {
      await Promise.all(opened.map((s) => s.release()));
      throw error;
    }
  }

  /** How the decoder is fed: no-cache, with-past or merged. */
  get layout(): DecoderLayout {
    return this.io.layout;
  }

  /** One caption per image, in order; images are encoded and decoded `batchSize` at a time. */
  async caption(images: readonly CaptionImage[], options: CaptionOptions = {}): Promise<Caption[]> {
    const batchSize = options.batchSize ?? 8;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize ${batchSize}: a positive integer`);
    const captions: Caption[] = [];
    for (let start = 0; start < images.length; start += batchSize) {
      captions.push(...(await this.captionBatch(images.slice(start, start + batchSize), options)));
    }
    return captions;
  }

  private async captionBatch(images: readonly CaptionImage[], options: CaptionOptions): Promise<Caption[]> {
    const { spec } = this;
    const size = spec.inputSize;
    const pixels = await imagesToPixelValues(images, spec);
    const encoded = await this.encoder.run({
      [this.encoderInput]: new ort.Tensor('float32', pixels, [images.length, 3, size, size]),
    });
    const states = encoded[this.encoderOutput];
    if (!states) throw new Error(`captioner "${this.name}": the encoder gave no ${this.encoderOutput}`);
    const runner = new DecoderRunner(this.decoders, this.io, states, spec.cache);
    const generation = spec.generation;
    const generated = await generate(runner, images.length, {
      decoderStartTokenId: generation.decoderStartTokenId,
      eosTokenId: generation.eosTokenId,
      padTokenId: generation.padTokenId,
      maxNewTokens: options.maxNewTokens ?? generation.maxNewTokens,
      numBeams: options.numBeams ?? generation.numBeams,
      lengthPenalty: options.lengthPenalty ?? generation.lengthPenalty,
    });
    return generated.map((g) => ({
      text: this.tokenizer.decode(g.tokenIds),
      tokens: this.tokenizer.tokens(g.tokenIds),
      tokenIds: g.tokenIds,
      score: g.score,
      finished: g.finished,
    }));
  }

  async close(): Promise<void> {
    const sessions = [this.encoder, this.decoders.first, this.decoders.withPast];
    await Promise.all(sessions.map((s) => s?.release()));
  }
}
