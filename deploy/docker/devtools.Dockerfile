# syntax=docker/dockerfile:1
#
# The local development tools that deploy/docker/compose.yaml runs next to
# Atrium: the Entra-shaped identity provider (tests/idp/idp.mjs), the fake
# Azure Resource Manager (tests/fake-arm/server.mjs) and Azurite (the Blob
# emulator), with the versions pinned in the root package-lock.json.
# Not a production image. Build context: the repository root.

ARG NODE_IMAGE=node:22-bookworm-slim
FROM ${NODE_IMAGE}
WORKDIR /src
ENV npm_config_update_notifier=false NODE_ENV=development
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tests/idp/ tests/idp/
COPY tests/fake-arm/ tests/fake-arm/
# Writable state (IdP signing keys, Azurite's blobs) lives in volumes at /data.
RUN mkdir -p /data && chown node:node /data
USER node
# compose.yaml chooses the command per service.
CMD ["node", "tests/idp/idp.mjs"]
