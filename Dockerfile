# The workbench's map libraries come from the npm registry at build time, as scripts/install
# fetches them; the image serves them itself.
FROM node:20-slim AS web
WORKDIR /web
COPY api/web/package.json api/web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim
WORKDIR /app
COPY . .
COPY --from=web /web/node_modules/leaflet/dist/leaflet.js /web/node_modules/leaflet/dist/leaflet.css api/web/static/vendor/leaflet/
COPY --from=web /web/node_modules/leaflet/dist/images api/web/static/vendor/leaflet/images/
COPY --from=web /web/node_modules/leaflet.markercluster/dist/leaflet.markercluster.js /web/node_modules/leaflet.markercluster/dist/MarkerCluster.css /web/node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css api/web/static/vendor/markercluster/
RUN pip install --no-cache-dir .
CMD ["lienwatch", "--help"]
