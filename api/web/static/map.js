// Leaflet maps with the configured tile source. With tiles unreachable (or set to none) the map
// still draws fences, tracks and points on its plain background. Coordinates from the API are
// WGS-84; on GCJ-02 tiles (AMap) every point is shifted as geofence/coords.py does.

import { toGcj02 } from "./coords.js";
import { esc } from "./ui.js";

let L; // Leaflet, once loaded
let loading;

function script(src) {
  return new Promise((resolve, reject) => {
    const element = document.createElement("script");
    element.src = src;
    element.onload = resolve;
    element.onerror = () => reject(new Error(`${src} did not load`));
    document.head.append(element);
  });
}

// Leaflet and its clustering, loaded when a view first needs a map (or the page is idle): the
// queue does not wait on them.
export function leaflet() {
  loading ??= script("vendor/leaflet/leaflet.js")
    .then(() => script("vendor/markercluster/leaflet.markercluster.js"))
    .then(() => (L = window.L));
  return loading;
}
let settings = { tiles: { url: null, crs: "wgs84", max_zoom: 19 } };

let configured;

// The tile setting, asked for once; only a map waits for it.
export function configure() {
  configured ??= fetch("/workbench/config.json")
    .then((response) => (response.ok ? response.json() : settings))
    .then((found) => (settings = found))
    .catch(() => settings); // keep the plain background
  return configured;
}

// Where a WGS-84 point is drawn on the configured tiles.
export function shown(lat, lon) {
  return settings.tiles.crs === "gcj02" ? toGcj02(lat, lon) : [lat, lon];
}

export async function create(element) {
  await Promise.all([leaflet(), configure()]);
  const map = L.map(element, { preferCanvas: true, zoomControl: true, attributionControl: true });
  const tiles = settings.tiles;
  if (tiles.url) {
    L.tileLayer(tiles.url, {
      attribution: tiles.attribution,
      subdomains: tiles.subdomains || "abc",
      maxZoom: tiles.max_zoom,
    }).addTo(map);
  }
  map.setView([35, 105], 4);
  return map;
}

export function marker(layer, lat, lon, { color = "#c0392b", radius = 6, title = "", fill = 0.8 } = {}) {
  const m = L.circleMarker(shown(lat, lon), { radius, color, weight: 2, fillColor: color, fillOpacity: fill });
  if (title) m.bindTooltip(esc(title)); // a tooltip's string is HTML
  return m.addTo(layer);
}

export function ring(layer, lat, lon, metres, { color = "#2c7fb8", dash = "6 4" } = {}) {
  return L.circle(shown(lat, lon), { radius: metres, color, weight: 2, fill: false, dashArray: dash }).addTo(layer);
}

export function line(layer, points, { color = "#2c7fb8", weight = 3 } = {}) {
  return L.polyline(points.map((p) => shown(p.lat, p.lon)), { color, weight, opacity: 0.8 }).addTo(layer);
}

// A fence as the API returns it (GeoJSON Feature; a circle is a Point with radius_m).
export function fence(layer, feature, { color = "#8e44ad" } = {}) {
  const radius = feature.properties?.radius_m;
  return L.geoJSON(feature, {
    coordsToLatLng: (c) => L.latLng(...shown(c[1], c[0])),
    style: { color, weight: 2, fillOpacity: 0.12 },
    pointToLayer: (_, at) =>
      radius ? L.circle(at, { radius, color, weight: 2, fillOpacity: 0.12 }) : L.circleMarker(at, { color }),
  }).addTo(layer);
}

export function fit(map, layers, fallbackZoom = 12) {
  const bounds = L.latLngBounds([]);
  for (const layer of layers) {
    if (layer.getBounds) bounds.extend(layer.getBounds());
    else if (layer.getLatLng) bounds.extend(layer.getLatLng());
  }
  if (!bounds.isValid()) return;
  // Without the zoom animation: the evidence is where it belongs as soon as the view is drawn.
  if (bounds.getNorthEast().equals(bounds.getSouthWest())) map.setView(bounds.getCenter(), fallbackZoom, { animate: false });
  else map.fitBounds(bounds.pad(0.2), { animate: false });
}
