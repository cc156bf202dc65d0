import { buildTinyCaptionDecoder, TINY_CAPTIONER_CACHE } from '@vad/models';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  DecoderLayoutError,
  describeDecoder,
  emptyPast,
  gatherRows,
  type SessionSignature,
  signatureOf,
} from '../src/index.js';

const past = (layers: number, parts: string[], shape: (number | string)[] = ['batch_size', 12, 'past', 64]) =>
  Array.from({ length: layers }, (_, i) =>
    parts.map((p) => ({ name: `past_key_values.${i}.${p}`, type: 'float32', shape })),
  ).flat();
const present = (layers: number, parts: string[]) =>
  Array.from({ length: layers }, (_, i) => parts.map((p) => `present.${i}.${p}`)).flat();
const base = [{ name: 'input_ids' }, { name: 'encoder_hidden_states' }];

describe('decoder layout discovery (from input and output names)', () => {
  it('(a) no cache: input_ids + encoder_hidden_states → logits', () => {
    const io = describeDecoder({ inputs: base, outputs: ['logits'] });
    expect(io).toEqual({ layout: 'no-cache', logits: 'logits', past: [] });
    // A first-step decoder that also outputs presents still runs without a cache when it is alone.
    expect(describeDecoder({ inputs: base, outputs: ['logits', ...present(2, ['key', 'value'])] }).layout).toBe(
      'no-cache',
    );
  });

  it('(b) with past: decoder_model.onnx fills the past of decoder_with_past_model.onnx', () => {
    const first: SessionSignature = { inputs: base, outputs: ['logits', ...present(2, ['key', 'value'])] };
    const withPast: SessionSignature = {
      inputs: [...base, ...past(2, ['key', 'value'])],
      outputs: ['logits', ...present(2, ['key', 'value'])],
    };
    const io = describeDecoder(first, withPast);
    expect(io.layout).toBe('with-past');
    expect(io.past).toHaveLength(4);
    expect(io.past[0]).toEqual({
      input: 'past_key_values.0.key',
      output: 'present.0.key',
      kind: 'decoder',
      type: 'float32',
      heads: 12,
      headDim: 64,
    });
  });

  it('(b) seq2seq style: cross-attention past from the first step only, an encoder_attention_mask', () => {
    const parts = ['decoder.key', 'decoder.value', 'encoder.key', 'encoder.value'];
    const first: SessionSignature = {
      inputs: [...base, { name: 'encoder_attention_mask' }],
      outputs: ['logits', ...present(1, parts)],
    };
    const withPast: SessionSignature = {
      inputs: [{ name: 'input_ids' }, { name: 'encoder_attention_mask' }, ...past(1, parts)],
      outputs: ['logits', ...present(1, ['decoder.key', 'decoder.value'])],
    };
    const io = describeDecoder(first, withPast);
    expect(io.past.map((p) => [p.input, p.kind])).toEqual([
      ['past_key_values.0.decoder.key', 'decoder'],
      ['past_key_values.0.decoder.value', 'decoder'],
      ['past_key_values.0.encoder.key', 'encoder'],
      ['past_key_values.0.encoder.value', 'encoder'],
    ]);
  });

  it('(c) merged: past inputs and use_cache_branch in one decoder', () => {
    const merged: SessionSignature = {
      inputs: [...base, ...past(12, ['key', 'value']), { name: 'use_cache_branch', type: 'bool', shape: [1] }],
      outputs: ['logits', ...present(12, ['key', 'value'])],
    };
    const io = describeDecoder(merged);
    expect(io.layout).toBe('merged');
    expect(io.past).toHaveLength(24);
    const feeds = emptyPast(io, 3);
    expect(feeds['past_key_values.11.value']?.dims).toEqual([3, 12, 0, 64]);
    expect(feeds['past_key_values.0.key']?.type).toBe('float32');
  });

  it('says what it cannot run', () => {
    const withPastAlone: SessionSignature = { inputs: [...base, ...past(1, ['key', 'value'])], outputs: ['logits'] };
    expect(() => describeDecoder(withPastAlone)).toThrow(/no use_cache_branch.*decoderWithPast/);
    expect(() => describeDecoder({ inputs: [...base, { name: 'token_type_ids' }], outputs: ['logits'] })).toThrow(
      /cannot feed: token_type_ids/,
    );
    expect(() => describeDecoder({ inputs: [{ name: 'encoder_hidden_states' }], outputs: ['logits'] })).toThrow(
      /no input_ids/,
    );
    const first: SessionSignature = { inputs: base, outputs: ['logits'] };
    const withPast: SessionSignature = { inputs: [...base, ...past(1, ['key'])], outputs: ['logits', 'present.0.key'] };
    expect(() => describeDecoder(first, withPast)).toThrow(DecoderLayoutError);
    expect(() => describeDecoder(first, withPast)).toThrow(/does not output present.0.key/);
  });

  it('needs the heads and head size of an empty past from the session or the spec', () => {
    const merged: SessionSignature = {
      inputs: [...base, ...past(1, ['key'], ['batch', 'heads', 'past', 'size']), { name: 'use_cache_branch' }],
      outputs: ['logits', 'present.0.key'],
    };
    const io = describeDecoder(merged);
    expect(() => emptyPast(io, 1)).toThrow(/cache: \{ heads, headDim \}/);
    expect(emptyPast(io, 2, { heads: 4, headDim: 8 })['past_key_values.0.key']?.dims).toEqual([2, 4, 0, 8]);
  });

  it("reads the layouts of vad's tiny decoders from real sessions", async () => {
    const open = (kind: Parameters<typeof buildTinyCaptionDecoder>[0]) =>
      ort.InferenceSession.create(buildTinyCaptionDecoder(kind));
    const [noCache, first, withPast, merged] = await Promise.all([
      open('no-cache'),
      open('first-step'),
      open('with-past'),
      open('merged'),
    ]);
    expect(describeDecoder(signatureOf(noCache)).layout).toBe('no-cache');
    const cached = describeDecoder(signatureOf(first), signatureOf(withPast));
    expect(cached.layout).toBe('with-past');
    expect(cached.past).toHaveLength(2 * TINY_CAPTIONER_CACHE.layers);
    const io = describeDecoder(signatureOf(merged));
    expect(io.layout).toBe('merged');
    expect(io.past[0]).toMatchObject({ heads: TINY_CAPTIONER_CACHE.heads, headDim: TINY_CAPTIONER_CACHE.headDim });
    expect(signatureOf(merged).inputs.at(-1)).toEqual({ name: 'use_cache_branch', type: 'bool', shape: [1] });
  });
});

describe('gatherRows', () => {
  it('picks, repeats and drops rows along the first dimension', () => {
    const t = new ort.Tensor('float32', Float32Array.from([0, 1, 10, 11, 20, 21]), [3, 1, 2]);
    const g = gatherRows(t, [2, 2, 0]);
    expect(g.dims).toEqual([3, 1, 2]);
    expect(Array.from(g.data as Float32Array)).toEqual([20, 21, 20, 21, 0, 1]);
    const empty = new ort.Tensor('float32', new Float32Array(0), [2, 4, 0, 8]);
    expect(gatherRows(empty, [1, 1, 0]).dims).toEqual([3, 4, 0, 8]);
  });
});
