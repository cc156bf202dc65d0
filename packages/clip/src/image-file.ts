import sharp from 'sharp';

/**
 * An image file → size × size RGB bytes, as CLIP preprocesses: shortest side
 * resized to `size` (bicubic), then centre-cropped.
 */
export async function imageFileToRgb(path: string, size: number): Promise<Buffer> {
  return sharp(path)
    .rotate() // honour EXIF orientation
    .removeAlpha()
    .toColourspace('srgb')
    .resize(size, size, { fit: 'cover', position: 'centre', kernel: 'cubic' })
    .raw()
    .toBuffer();
}
