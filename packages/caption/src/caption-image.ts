import { rgbToNchw } from '@vad/clip';
import sharp from 'sharp';

/**
 * An image to caption: RGB bytes (HWC) of any size, or already the
 * captioner's S×S RGB bytes, or an image file.
 */
export type CaptionImage = Uint8Array | { rgb: Uint8Array; width: number; height: number } | { path: string };

export interface ImagePreprocessing {
  inputSize: number;
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
  /** `fill` stretches to S×S (ViTImageProcessor, bilinear); `cover` resizes the short side and crops the centre. */
  resize: 'fill' | 'cover';
}

function resizeOptions(p: ImagePreprocessing): sharp.ResizeOptions {
  return p.resize === 'cover'
    ? { fit: 'cover', position: 'centre', kernel: 'cubic' }
    : { fit: 'fill', kernel: 'linear' };
}

/** An image as S×S RGB bytes, resized as the captioner's preprocessing says. */
export async function imageToRgb(image: CaptionImage, p: ImagePreprocessing): Promise<Uint8Array> {
  const size = p.inputSize;
  if (image instanceof Uint8Array) {
    if (image.length !== size * size * 3)
      throw new Error(`an image of ${image.length} bytes: ${size}x${size} RGB (${size * size * 3} bytes) expected`);
    return image;
  }
  if ('path' in image) {
    return sharp(image.path)
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .resize(size, size, resizeOptions(p))
      .raw()
      .toBuffer();
  }
  const { rgb, width, height } = image;
  if (rgb.length !== width * height * 3)
    throw new Error(`an image of ${rgb.length} bytes: ${width}x${height} RGB (${width * height * 3} bytes) expected`);
  if (width === size && height === size) return rgb;
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .resize(size, size, resizeOptions(p))
    .raw()
    .toBuffer();
}

/** Images → pixel_values [N,3,S,S], float32, normalised with the captioner's mean and std. */
export async function imagesToPixelValues(
  images: readonly CaptionImage[],
  p: ImagePreprocessing,
): Promise<Float32Array> {
  const size = p.inputSize;
  const frame = size * size * 3;
  const rgb = new Uint8Array(images.length * frame);
  for (const [i, image] of images.entries()) rgb.set(await imageToRgb(image, p), i * frame);
  return rgbToNchw(rgb, images.length, size, p.mean, p.std);
}
