# The scenario upstreams (dev.capgate.e2e.upstream.Upstreams) as a pod, for Kind. Context: e2e/
# after `make build` (target/classes + target/lib). Git for `git http-backend`. The same image runs
# s3proxy (CloudCredentialsE2E): up.sh copies make tools' s3proxy class path to target/s3proxy-lib.
ARG BASE_IMAGE=capgate.local/java-base:25
FROM ${BASE_IMAGE}
USER root
RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*
COPY target/classes /opt/upstreams/classes
COPY target/lib /opt/upstreams/lib
COPY target/s3proxy-lib /opt/s3proxy/lib
COPY kind/upstreams-entrypoint.sh /opt/upstreams/entrypoint.sh
USER 1447:1447
ENTRYPOINT ["/opt/upstreams/entrypoint.sh"]
