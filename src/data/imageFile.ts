/**
 * Reading one image file without trusting it: only regular files are opened (a FIFO named x.jpg
 * would block forever, a link to /dev/zero never ends), a file larger than `maxBytes` is refused
 * before it is read, and libvips refuses images of more than `MAX_IMAGE_PIXELS` pixels from their
 * header (a decompression bomb: a 30000x30000 JPEG of a few kilobytes) before decoding them. Every
 * refusal is an Error whose message says why, for the caller to skip the file and count it.
 *
 * ```ts
 * const bytes = await readImageFile('photos/a.jpg');
 * const image = sharp(bytes, imageDecodeOptions());
 * ```
 */
import type { Metadata, SharpOptions } from 'sharp';
import { readRegularFile } from '../io/regularFile.js';

/** The largest image file read (bytes): far above any photo, far below what would exhaust memory. */
export const MAX_IMAGE_FILE_BYTES = 512 * 2 ** 20;
/** The largest image decoded (pixels): PIL's decompression-bomb limit (2 x 89,478,485). */
export const MAX_IMAGE_PIXELS = 178_956_970;

/** The bytes of the image file at `path`: a regular file (links followed) of at most `maxBytes`. */
export function readImageFile(path: string, maxBytes = MAX_IMAGE_FILE_BYTES): Promise<Buffer> {
  return readRegularFile(path, maxBytes);
}

/** sharp's input options for untrusted files: errors fail (a truncated file is not half an image), the pixel limit. */
export function imageDecodeOptions(): SharpOptions {
  return { failOn: 'error', limitInputPixels: MAX_IMAGE_PIXELS };
}

/** Width and height as displayed, after the EXIF orientation (orientations 5-8 swap them). */
export function orientedSize(meta: Metadata): { width: number; height: number } {
  if (!meta.width || !meta.height) throw new Error('no image size in its header');
  return (meta.orientation ?? 1) >= 5 ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height };
}
