# cks-lab web app and orchestrator. Build from the repository root:
#   docker build -t cks-lab:latest .
# and deploy with `kubectl apply -k deploy/` (LAB_CLUSTER=kube there).

FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary matches the platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV NEXT_TELEMETRY_DISABLED=1 TURBO_TELEMETRY_DISABLED=1
# Manifests first, so the dependency layer is rebuilt only when they change.
COPY package.json package-lock.json ./
COPY apps/web/package.json apps/web/
COPY packages/core/package.json packages/core/
COPY packages/db/package.json packages/db/
COPY packages/kubevirt/package.json packages/kubevirt/
COPY test/package.json test/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx turbo run build --filter=@cks-lab/web \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 PORT=3000 LAB_DATA_DIR=/data
# Sources stay next to the build: the database package reads its migrations from packages/db/drizzle.
COPY --from=build /app /app
WORKDIR /app/apps/web
USER node
EXPOSE 3000
# server.ts puts the terminal's WebSocket relay in front of Next.js (tsx runs it: a runtime dependency).
CMD ["node", "--import", "tsx", "server.ts", "--port", "3000"]
