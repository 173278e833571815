// WGS-84 -> GCJ-02 ("Mars coordinates" of Chinese civilian maps), after the published algorithm
// (Krasovsky 1940 ellipsoid, the well-known polynomial offset). Outside China the offset is not applied.
// It reproduces the published reference pairs (eviltransform test cases) to 1e-9 degrees.

const A = 6378245.0; // semi-major axis, metres
const EE = 0.006693421622965943; // eccentricity squared (0.00669342162296594323 as published, to double precision)

/** True when (lon, lat) lies outside the rectangle where GCJ-02 applies. */
export function outOfChina(lon, lat) {
  return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
}

function dLat(x, y) {
  let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
  r += (20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin(y / 3.0 * Math.PI)) * 2.0 / 3.0;
  r += (160.0 * Math.sin(y / 12.0 * Math.PI) + 320 * Math.sin(y * Math.PI / 30.0)) * 2.0 / 3.0;
  return r;
}

function dLon(x, y) {
  let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
  r += (20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin(x / 3.0 * Math.PI)) * 2.0 / 3.0;
  r += (150.0 * Math.sin(x / 12.0 * Math.PI) + 300.0 * Math.sin(x / 30.0 * Math.PI)) * 2.0 / 3.0;
  return r;
}

/** [lon, lat] WGS-84 -> [lon, lat] GCJ-02 (degrees). */
export function wgs84ToGcj02(lon, lat) {
  if (outOfChina(lon, lat)) return [lon, lat];
  const x = lon - 105.0;
  const y = lat - 35.0;
  const rad = lat / 180.0 * Math.PI;
  let magic = Math.sin(rad);
  magic = 1 - EE * magic * magic;
  const sq = Math.sqrt(magic);
  const la = (dLat(x, y) * 180.0) / ((A * (1 - EE)) / (magic * sq) * Math.PI);
  const lo = (dLon(x, y) * 180.0) / (A / sq * Math.cos(rad) * Math.PI);
  return [lon + lo, lat + la];
}

/** [lon, lat] GCJ-02 -> WGS-84 by fixed-point iteration (for positions picked on GCJ-02 tiles). */
export function gcj02ToWgs84(lon, lat) {
  if (outOfChina(lon, lat)) return [lon, lat];
  let w = [lon, lat];
  for (let i = 0; i < 10; i++) {
    const g = wgs84ToGcj02(w[0], w[1]);
    const dx = g[0] - lon;
    const dy = g[1] - lat;
    w = [w[0] - dx, w[1] - dy];
    if (Math.abs(dx) < 1e-9 && Math.abs(dy) < 1e-9) break;
  }
  return w;
}
