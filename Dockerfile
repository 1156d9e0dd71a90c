# OpenSAG images, one stage per role; docker-compose.yml builds each with its `target`.
#   build   npm ci, npm run build, npm run build:agent: the same artifacts as on a workstation
#   broker  sag-broker (HTTP API, device MQTT, embedded access point), data in /data
#   agent   sag-agent from the one-file bundle, state in /var/lib/sag-agent
#   tools   the bundle and the scenario scripts, for the lab's one-shot jobs
# Every runtime stage runs as the image's unprivileged `node` user (uid 1000): the broker binds
# ports above 1024 and the emulated data plane changes nothing in the kernel.

FROM node:20-bookworm-slim AS build
# better-sqlite3 downloads a prebuilt binary; these let it compile one where none fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The manifests first, so the dependency layer is rebuilt only when they change.
COPY package.json package-lock.json ./
COPY packages/proto/package.json packages/proto/
COPY packages/broker/package.json packages/broker/
COPY packages/agent/package.json packages/agent/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm run build:agent

# The broker's run-time dependencies only (the native better-sqlite3 stays as built above).
FROM build AS broker-deps
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS broker
ENV NODE_ENV=production
WORKDIR /opt/opensag
COPY --from=broker-deps /src/package.json ./
COPY --from=broker-deps /src/node_modules ./node_modules
COPY --from=build /src/packages/proto/package.json packages/proto/
COPY --from=build /src/packages/proto/dist packages/proto/dist
COPY --from=build /src/packages/broker/package.json packages/broker/
COPY --from=build /src/packages/broker/dist packages/broker/dist
# An empty named volume mounted on /data takes this owner and mode.
RUN mkdir -m 0700 /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080 1883 51821/udp
ENTRYPOINT ["node", "/opt/opensag/packages/broker/dist/cli.js"]
CMD ["--http", "0.0.0.0:8080", "--mqtt", "0.0.0.0:1883", "--access-point", "0.0.0.0:51821", "--data-dir", "/data"]

FROM node:20-bookworm-slim AS agent
WORKDIR /opt/opensag
COPY --from=build /src/dist/agent/sag-agent.mjs /src/dist/agent/THIRD-PARTY-LICENSES.txt ./
RUN mkdir -m 0700 /var/lib/sag-agent && chown node:node /var/lib/sag-agent
USER node
ENV SAG_STATE_DIR=/var/lib/sag-agent
VOLUME /var/lib/sag-agent
ENTRYPOINT ["node", "/opt/opensag/sag-agent.mjs"]
CMD ["--help"]

FROM node:20-bookworm-slim AS tools
WORKDIR /opt/opensag
COPY --from=build /src/dist/agent/sag-agent.mjs /src/dist/agent/THIRD-PARTY-LICENSES.txt ./
COPY scripts/scenario.mjs scripts/compose-setup.mjs scripts/
# Mount points of the branch devices' state volumes, owned like the agent image's state directory.
RUN mkdir -p /state/hangzhou /state/ningbo && chmod 0700 /state/hangzhou /state/ningbo \
 && chown -R node:node /state
USER node
CMD ["node", "/opt/opensag/scripts/compose-setup.mjs", "--help"]
