// A camera photo made small enough to send from the field: drawn into a canvas at most 1600 px on its
// longer side and encoded as JPEG (quality lowered until it fits well under the server's 4 MB).

const MAX_SIDE = 1600;
const MAX_BYTES = 3.5 * 1024 * 1024;

async function decode(file) {
  if (globalThis.createImageBitmap) {
    try {
      return await createImageBitmap(file, {imageOrientation: "from-image"});
    } catch {
      // fall back to an <img> (older browsers, some formats)
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Bytes of a base64 data URL once decoded. */
export function dataUrlBytes(dataUrl) {
  const b64 = dataUrl.slice(dataUrl.indexOf(",") + 1);
  return Math.floor((b64.length * 3) / 4) - (b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0);
}

/** Resolves {dataUrl, width, height, bytes}; rejects with {code: "notImage" | "tooBig"}. */
export async function shrinkPhoto(file) {
  if (!file.type.startsWith("image/")) throw {code: "notImage"};
  let img;
  try {
    img = await decode(file);
  } catch {
    throw {code: "notImage"};
  }
  const w0 = img.width;
  const h0 = img.height;
  const scale = Math.min(1, MAX_SIDE / Math.max(w0, h0));
  const width = Math.max(1, Math.round(w0 * scale));
  const height = Math.max(1, Math.round(h0 * scale));
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#fff"; // transparent PNGs become white, not black, in JPEG
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(img, 0, 0, width, height);
  img.close?.();
  for (const q of [0.82, 0.7, 0.55, 0.4]) {
    const dataUrl = canvas.toDataURL("image/jpeg", q);
    const bytes = dataUrlBytes(dataUrl);
    if (bytes <= MAX_BYTES) return {dataUrl, width, height, bytes};
  }
  throw {code: "tooBig"};
}
