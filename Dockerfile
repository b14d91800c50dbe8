# otto-connect: one image for the worker, the API and the OTTO emulator (the command picks which).
#   docker build -t otto-connect .
#   docker run -e WORKFLOW_BUNDLE=/app/lib/workflow-bundle.js otto-connect node lib/worker/index.js
#   (default command: the API). Node 24, the LTS line this project targets.

# ---- build: compile TypeScript to lib/ --------------------------------------------------------------
FROM node:24-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary matches the platform.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY common ./common
COPY store ./store
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY api ./api
COPY emulator ./emulator
COPY scripts ./scripts
COPY client ./client
RUN npm run build
# The workflow bundle, built once here instead of at every worker start (the worker loads it when
# WORKFLOW_BUNDLE names it, as docker-compose.yml does): the code a worker started from lib/ would bundle.
RUN node lib/scripts/build-workflow-bundle.js lib/workflow-bundle.js

# ---- runtime: compiled JS, production dependencies, non-root -------------------------------------------
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    DATA_DIR=/app/data \
    SELLER_STORE=/app/data/seller-store.db
WORKDIR /app
COPY package.json package-lock.json ./
# Compilers only for the time of the install (better-sqlite3 may build from source), then gone again.
# jemalloc stays (worker/allocator.ts, docs/scaling.md §4): the worker's cached runs keep native memory in
# the Temporal core, which glibc's malloc fragments across its thread arenas; preloaded, jemalloc gives it
# back. Linked to one path for every architecture (the first that worker/allocator.ts looks at).
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ libjemalloc2 \
  && ln -s "/usr/lib/$(uname -m)-linux-gnu/libjemalloc.so.2" /usr/local/lib/libjemalloc.so.2 \
  && npm ci --omit=dev && npm cache clean --force \
  && apt-get purge -y python3 make g++ && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
ENV LD_PRELOAD=/usr/local/lib/libjemalloc.so.2
COPY --from=build --chown=node:node /app/lib ./lib
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000 3900 9464 9465
CMD ["node", "lib/api/index.js"]
