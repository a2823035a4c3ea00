# One image for every worker kind; the command picks the worker:
#   portwatch worker camera|ais|…   (docker-compose.yml), or portwatch run for everything in one process.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev
COPY . .
# Convert the detectors at build time so no container converts at start.
RUN node --import tsx scripts/models/convert.ts
RUN mkdir -p /var/lib/portwatch/snapshots && chown -R node:node /var/lib/portwatch
USER node
CMD ["node", "bin/portwatch.js", "run", "--data-dir", "/var/lib/portwatch"]
