#!/usr/bin/env bash
# Puts the CustomResourceDefinitions of the monitoring objects the real-apiserver tests
# install into $LLMSERVE_TOOLS/crds (tools/crds-gateway.sh adds the gateway's). CI copies
# PodMonitoring from ../shared/crds (no network there); a user's machine fetches the same
# file from upstream at a pinned commit. Never committed here. Every file is checked before
# it is cached (tools/crds-lib.sh); tests/setup_scripts_test.go runs this script with a
# failing curl and go.
set -euo pipefail
TAG=crds
. "$(dirname "$0")/crds-lib.sh"

# GoogleCloudPlatform/prometheus-engine charts/operator/crds/, pinned.
PROMETHEUS_ENGINE_COMMIT=034a715222b7d8769bf3d8e8de4f38fcb08aa154
file=monitoring.googleapis.com_podmonitorings.yaml
from_shared_or_url "$file" \
  "https://raw.githubusercontent.com/GoogleCloudPlatform/prometheus-engine/$PROMETHEUS_ENGINE_COMMIT/charts/operator/crds/$file" \
  "prometheus-engine@$PROMETHEUS_ENGINE_COMMIT"

# The Prometheus Operator's CRDs (ServiceMonitor, PrometheusRule) ship in its Go module.
PROMETHEUS_OPERATOR_VERSION=v0.85.0
from_module "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION" \
  example/prometheus-operator-crd "PROMETHEUS_OPERATOR_VERSION in tools/crds.sh" \
  monitoring.coreos.com_servicemonitors.yaml monitoring.coreos.com_prometheusrules.yaml
