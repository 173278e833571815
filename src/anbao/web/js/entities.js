// Many moving points on one canvas (unit positions, tracked people, drones): one fill per colour per
// frame instead of one path per point, so thousands of points move at the display's frame rate.
// Positions are in the map's own lat/lng (shift WGS-84 to GCJ-02 before, as MapView.ll does).
/* global L */

const TAU = Math.PI * 2;
const R2D = 180 / Math.PI;

export const EntityLayer = L.Layer.extend({
  options: {pane: "overlayPane", radius: 3.5, stroke: null, lineWidth: 1, shape: "disc", colors: ["#2fc56b", "#2f7df6", "#f5c518", "#ff8a1c", "#f03a3a"]},

  initialize(options) {
    L.setOptions(this, options);
    this.lat = new Float64Array(0);
    this.lng = new Float64Array(0);
    this.color = new Uint8Array(0);
    this.frame = null;
  },

  /** lat, lng: arrays of degrees; color: index into options.colors per point. */
  setData(lat, lng, color) {
    this.lat = lat;
    this.lng = lng;
    this.color = color || new Uint8Array(lat.length);
    this.redraw();
    return this;
  },

  onAdd(map) {
    this.canvas = L.DomUtil.create("canvas", "leaflet-zoom-hide entity-layer");
    this.canvas.style.pointerEvents = "none";
    this.ctx = this.canvas.getContext("2d");
    this.getPane().appendChild(this.canvas);
    map.on("moveend zoomend resize viewreset", this.reset, this);
    this.reset();
  },

  onRemove(map) {
    map.off("moveend zoomend resize viewreset", this.reset, this);
    if (this.frame) L.Util.cancelAnimFrame(this.frame);
    this.frame = null;
    L.DomUtil.remove(this.canvas);
  },

  reset() {
    const map = this._map;
    const size = map.getSize();
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = size.x * ratio;
    this.canvas.height = size.y * ratio;
    this.canvas.style.width = `${size.x}px`;
    this.canvas.style.height = `${size.y}px`;
    this.topLeft = map.containerPointToLayerPoint([0, 0]);
    L.DomUtil.setPosition(this.canvas, this.topLeft);
    this.draw();
  },

  redraw() {
    if (this._map && !this.frame) this.frame = L.Util.requestAnimFrame(this.draw, this);
    return this;
  },

  /** Draw now (the frame loop calls this; redraw() schedules it for the next frame). */
  draw() {
    if (this.frame) L.Util.cancelAnimFrame(this.frame);
    this.frame = null;
    const map = this._map;
    if (!map) return;
    const {ctx, canvas} = this;
    const ratio = window.devicePixelRatio || 1;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const n = this.lat.length;
    if (!n) return;
    const zoom = map.getZoom();
    const origin = map.getPixelOrigin();
    const ox = origin.x + this.topLeft.x;
    const oy = origin.y + this.topLeft.y;
    const w = canvas.width / ratio;
    const h = canvas.height / ratio;
    const r = this.options.radius;
    const mercator = map.options.crs === L.CRS.EPSG3857;
    const scale = 256 * 2 ** zoom;
    const xs = new Float32Array(n);
    const ys = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let x;
      let y;
      if (mercator) {
        const s = Math.sin(Math.max(Math.min(this.lat[i], 85.05), -85.05) / R2D);
        x = (this.lng[i] / 360 + 0.5) * scale;
        y = (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * scale;
      } else {
        const p = map.project([this.lat[i], this.lng[i]], zoom);
        x = p.x;
        y = p.y;
      }
      xs[i] = x - ox;
      ys[i] = y - oy;
    }
    // filled discs only, one path per colour: a stroke per point doubles the rasterising cost (bench/ui_frame.py:
    // 5,000 points at 60 frames/s filled, 30 with strokes, in software-rendered chromium)
    this.options.colors.forEach((fill, c) => {
      ctx.beginPath();
      let any = false;
      for (let i = 0; i < n; i++) {
        if (this.color[i] !== c) continue;
        const x = xs[i];
        const y = ys[i];
        if (x < -r || y < -r || x > w + r || y > h + r) continue;
        if (this.options.shape === "triangle") { // police units: a triangle, never mistaken for a sensor's dot
          ctx.moveTo(x, y - r * 1.25);
          ctx.lineTo(x + r * 1.1, y + r * 0.75);
          ctx.lineTo(x - r * 1.1, y + r * 0.75);
          ctx.closePath();
        } else {
          ctx.moveTo(x + r, y);
          ctx.arc(x, y, r, 0, TAU);
        }
        any = true;
      }
      if (!any) return;
      ctx.fillStyle = fill;
      ctx.fill();
      if (this.options.stroke) {
        ctx.lineWidth = this.options.lineWidth || 1;
        ctx.strokeStyle = this.options.stroke;
        ctx.stroke();
      }
    });
  },
});
