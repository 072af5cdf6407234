# syntax=docker/dockerfile:1
# Jetway's images for people who build with Docker or BuildKit. `jetway images push` builds the same
# images without a Docker daemon (docs/kubernetes-runtime.md, "Images"); test/packaging/dockerfile.test.ts
# keeps the two consistent (Node version, entry point, user, busybox applets, resource types).
#
#   docker build --target web                    -t REG/jetway/jetway:0.1.0 .
#   docker build --target helper                 -t REG/jetway/helper:0.1.0 .
#   docker build --target mock-resource          -t REG/jetway/mock-resource:0.1.0 .
#   docker build --target time-resource          -t REG/jetway/time-resource:0.1.0 .
#   docker build --target git-resource           -t REG/jetway/git-resource:0.1.0 .
#   docker build --target registry-image-resource -t REG/jetway/registry-image-resource:0.1.0 .

# Node: the LTS `jetway images push` takes from the npm registry (src/packaging/node-dist.ts)
ARG NODE_VERSION=24.22.3
# a static busybox whose applets include chpst (busybox's default configuration; Debian's
# busybox-static lacks chpst)
ARG BUSYBOX_IMAGE=busybox:1.37.0-musl

# --- build: Jetway's files, written by the same code that assembles the images' layers ---
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npx tsx scripts/image-files.ts /out

# --- jetway/helper: the init container and artifact sidecar of every step pod ---
FROM ${BUSYBOX_IMAGE} AS helper
# the applets the Kubernetes runtime runs (HELPER_APPLETS in src/packaging/images.ts)
RUN for applet in cat chmod chpst cp grep head kill mkdir mv rm setsid sh sleep tail tar test usleep wc; do \
      /bin/busybox --list | grep -qx "$applet" || { echo "busybox lacks $applet" >&2; exit 1; }; \
    done
CMD ["sh"]

# --- jetway/jetway: the web node ---
FROM node:${NODE_VERSION}-bookworm-slim AS web
COPY --from=build /out/web/opt/jetway /opt/jetway
RUN mkdir -p /var/lib/jetway && chown 1000:1000 /var/lib/jetway
ENV NODE_ENV=production JETWAY_DATA_DIR=/var/lib/jetway MALLOC_ARENA_MAX=2
WORKDIR /var/lib/jetway
USER 1000:1000
ENTRYPOINT ["/usr/local/bin/node", "/opt/jetway/dist/cli/jetway.mjs"]
CMD ["web"]

# --- jetway/<type>-resource: the built-in resource types, speaking /opt/resource ---
FROM node:${NODE_VERSION}-bookworm-slim AS resource-base
COPY --from=build /out/resources/opt/jetway /opt/jetway

FROM resource-base AS mock-resource
COPY --from=build /out/mock-resource/opt/resource /opt/resource

FROM resource-base AS time-resource
COPY --from=build /out/time-resource/opt/resource /opt/resource

FROM resource-base AS registry-image-resource
COPY --from=build /out/registry-image-resource/opt/resource /opt/resource

FROM resource-base AS git-resource
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/git-resource/opt/resource /opt/resource

# the default target: the web node
FROM web
