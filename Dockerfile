# syntax=docker/dockerfile:1
#
# orgaccounts: one static binary on a small alpine base.
#
#   docker build -t orgaccounts .
#   docker run --rm orgaccounts migrate        # or serve | api | worker | bootstrap
#
# The runtime stage is alpine rather than distroless so that container
# health checks can run busybox wget against /readyz (see
# docker-compose.yml); the process itself runs as an unprivileged user.

# The builder's Go is the go directive of go.mod (deploy/compose_test.go
# checks that they agree).
ARG GO_VERSION=1.26.8
ARG ALPINE_VERSION=3.23.3

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Use exactly this toolchain; never download another one.
ENV GOTOOLCHAIN=local
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" \
        -o /out/orgaccounts ./cmd/orgaccounts

FROM alpine:${ALPINE_VERSION}
# A fixed, unprivileged uid/gid and a writable DATA_DIR for the embedded
# SQLite file that `serve` uses when DATABASE_URL is empty.
RUN addgroup -S -g 10001 orgaccounts \
 && adduser -S -D -H -u 10001 -G orgaccounts -s /sbin/nologin orgaccounts \
 && mkdir -p /var/lib/orgaccounts \
 && chown orgaccounts:orgaccounts /var/lib/orgaccounts
COPY --from=build /out/orgaccounts /usr/local/bin/orgaccounts
ENV DATA_DIR=/var/lib/orgaccounts
WORKDIR /var/lib/orgaccounts
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/orgaccounts"]
CMD ["serve"]
