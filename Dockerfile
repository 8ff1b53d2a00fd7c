# One image for every pinflow service; the command picks the app:
#   docker run pinflow node dist/apps/intake/src/main.js
# Node 22 is the current LTS line; pass --build-arg NODE_IMAGE=node:22.x.y-bookworm-slim@sha256:… to pin
# a release to one exact base image.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Locked install; install scripts stay off (the build generates the Prisma client itself).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN node tools/build.mjs

FROM ${NODE_IMAGE} AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
# Heap flags for every service (same as libs/testing/processes.ts; README, "Benchmark", "Memory"): an
# old-generation ceiling makes V8 collect instead of growing to ~200 MB of garbage under load, and a
# smaller young generation.
ENV NODE_OPTIONS="--max-semi-space-size=8 --max-old-space-size=256"
# Fixed glibc malloc thresholds (same as libs/testing/processes.ts): blocks over 128 KiB, kafkajs'
# fetch buffers among them, get their own mapping and go back to the kernel when freed, and the heap
# is trimmed, instead of glibc's sliding thresholds keeping up to 64 MiB of freed memory resident.
ENV MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/prisma ./prisma
# The operator console's static page, which audit serves.
COPY --from=build /app/apps/audit/console ./apps/audit/console
COPY --from=build /app/nx.json /app/package.json ./
# The base image's unprivileged `node` user, numeric so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
CMD ["node", "dist/apps/intake/src/main.js"]
