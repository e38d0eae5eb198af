# Stello Server: `stello serve` in a small non-root image.
#   docker build -t stello-server .
#   docker run -e DATABASE_URL=postgresql://… -p 3000:3000 stello-server
# Or the whole stack (PostgreSQL, migrations, server): docker compose --profile server up

# 1. Build every package the server needs (TypeScript → dist), then a standalone production copy.
FROM node:24-bookworm-slim AS build
WORKDIR /src
RUN npm install -g pnpm@12 && pnpm config set store-dir /pnpm-store
# Manifests first, so the dependency layer is cached while only sources change.
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json tsconfig.base.json tsup.config.base.ts turbo.json ./
COPY packages ./packages
COPY internal ./internal
COPY examples ./examples
COPY bench/package.json ./bench/package.json
RUN pnpm install --frozen-lockfile
RUN pnpm --filter "@stello-ai/server..." build
# A self-contained directory: the server's dist and its production dependencies (workspace ones copied in).
RUN pnpm --filter @stello-ai/server deploy --prod /out

# 2. Run as the unprivileged `node` user, with nothing but the deployed package.
FROM node:24-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY --from=build --chown=node:node /out /app
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# `serve` migrates first (idempotent, safe with several replicas starting at once), then serves.
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["serve"]
