# One image for every pinflow service; the command picks the app:
#   docker run pinflow node dist/apps/intake/src/main.js
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --ignore-scripts --no-audit --no-fund
COPY . .
RUN node tools/build.mjs && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/prisma ./prisma
COPY --from=build /app/nx.json /app/package.json ./
USER node
CMD ["node", "dist/apps/intake/src/main.js"]
