# Capgate — the front door. Each target is a line or two over mvn, helm, kubectl, go.
SHELL := /bin/bash
# Java 25: Temurin's where it is installed, else whatever JAVA_HOME says.
JAVA25 := /usr/lib/jvm/temurin-25-jdk-amd64
ifneq ($(wildcard $(JAVA25)/bin/java),)
export JAVA_HOME := $(JAVA25)
endif
export PATH := $(JAVA_HOME)/bin:$(PATH)
export CAPGATE_TOOLS ?= $(HOME)/.cache/capgate/tools
MVN := mvn -B -ntp -Dcapgate.tools=$(CAPGATE_TOOLS)

.PHONY: help tools build fmt test unit crds demo e2e e2e-up e2e-down bench images cluster-up cluster-down e2e-kind plugin install-plugin clean

help: ## this list
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

tools: ## build/install etcd, Kubernetes 1.35, OpenBao, helm, h2spec into $(CAPGATE_TOOLS) (cached)
	@hack/tools.sh

build: ## compile and package every module, no tests
	$(MVN) -q install -DskipTests

fmt: ## format every Java file (google-java-format via Spotless; every build checks it)
	$(MVN) -q spotless:apply

unit: ## unit tests only (*Test)
	$(MVN) test

test: ## all tests: unit (*Test) and on real components (*IT: etcd, kube-apiserver, OpenBao, iptables)
	$(MVN) install

crds: ## regenerate the CRD YAML (crds/ and charts/capgate/crds/) from the Java types
	$(MVN) -q install -pl crds -am -DskipITs -Dcapgate.crds.update=true

demo: images ## the story on a real local cluster: apply a session, admit a pod, allowed/denied calls, revoke
	@hack/demo.sh

e2e: images ## end-to-end scenarios (*E2E) on a real single-node cluster: stack up, suite, stack down
	@e2e/stack/run-e2e.sh

e2e-up: images ## the e2e stack: cluster, images, OpenBao, upstreams, helm install capgate (KUBECONFIG printed)
	@e2e/stack/stack-up.sh

e2e-down: ## stop the e2e stack and clean the host
	@e2e/stack/stack-down.sh

bench: ## benchmarks (root; ~20 min): Capgate vs direct/Squid/mitmproxy, admission, revocation, start-up, memory; prints tables, writes bench/target/bench/results.json (BENCH_ARGS=--quick for a smoke run)
	@bench/bench-tools.sh && $(MVN) -q install -DskipTests
	cd bench && java -Dcapgate.tools=$(CAPGATE_TOOLS) -cp 'target/capgate-bench.jar:target/lib/*' dev.capgate.bench.Bench $(BENCH_ARGS)

images: build ## build the operator, sidecar and test images (docker where present, buildah here)
	@hack/images.sh

cluster-up: ## start a real single-node cluster without Docker (state in /var/lib/capgate-e2e)
	@e2e/cluster/cluster-up.sh

cluster-down: ## stop it and clean the host
	@e2e/cluster/cluster-down.sh

e2e-kind: build ## the same scenarios on a Kind cluster (podman + images built here, or Docker): e2e/kind/README.md
	@e2e/kind/run.sh

plugin: ## the kubectl plugin: cli/target/capgate-cli.jar and the launcher cli/target/kubectl-capgate (put cli/target on PATH: `kubectl capgate --help`)
	$(MVN) -q package -pl cli -am -DskipTests
	sed -e "s|@CAPGATE_CLI_JAR@|$(CURDIR)/cli/target/capgate-cli.jar|" -e "s|@CAPGATE_JAVA_HOME@|$(JAVA_HOME)|" \
	  cli/kubectl-capgate > cli/target/kubectl-capgate && chmod 755 cli/target/kubectl-capgate

PREFIX ?= /usr/local
install-plugin: plugin ## install kubectl-capgate into $(PREFIX)/bin, its jars into $(PREFIX)/lib/capgate-cli (PREFIX=/usr/local)
	install -d $(PREFIX)/bin $(PREFIX)/lib/capgate-cli/lib
	rm -f $(PREFIX)/lib/capgate-cli/lib/*.jar
	install -m 644 cli/target/capgate-cli.jar $(PREFIX)/lib/capgate-cli/
	install -m 644 cli/target/lib/*.jar $(PREFIX)/lib/capgate-cli/lib/
	sed -e "s|@CAPGATE_CLI_JAR@|$(PREFIX)/lib/capgate-cli/capgate-cli.jar|" -e "s|@CAPGATE_JAVA_HOME@|$(JAVA_HOME)|" \
	  cli/kubectl-capgate > $(PREFIX)/bin/kubectl-capgate && chmod 755 $(PREFIX)/bin/kubectl-capgate

clean: ## remove build output
	$(MVN) -q clean
