# driftwatch as a container (used by docker-compose.yml). Build: docker build -t driftwatch .
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
# `npm ci` runs `prepare` (the TypeScript build), so the sources are copied first; dev dependencies go afterwards.
RUN npm ci --no-audit --no-fund --include=dev && npm prune --omit=dev && rm -rf src bench
COPY fixtures/demo ./fixtures/demo
COPY rules ./rules
COPY dashboards ./dashboards
RUN mkdir -p /data && chown node:node /data
USER node
ENV DRIFTWATCH_DATA_DIR=/data
EXPOSE 8080
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["run"]
