#!/usr/bin/env bash
# Puts the CRDs of serving.routing gateway (issue 20) into $LLMSERVE_TOOLS/crds for the
# real-apiserver tests, next to tools/crds.sh's:
#   - Gateway API standard CRDs (Gateway, HTTPRoute, ...) from the Go module
#     sigs.k8s.io/gateway-api at a pinned version (config/crd/standard/);
#   - the InferencePool CRD from sigs.k8s.io/gateway-api-inference-extension at the
#     endpoint picker's version (config/crd/bases/);
#   - GKE's networking.gke.io HealthCheckPolicy and GCPBackendPolicy CRDs, copied from
#     ../shared/crds (CI; $LLMSERVE_SHARED overrides the path) or fetched from GoogleCloudPlatform/gke-gateway-api at the
#     pinned commit ../shared/README.md names.
# Modules come through the Go module proxy, like the tools; every file is checked before
# it is cached (tools/crds-lib.sh). Never committed here.
# Versions must match catalog/gateway.go (GatewayAPIVersion, InferenceExtensionVersion).
set -euo pipefail
TAG=crds-gateway
. "$(dirname "$0")/crds-lib.sh"

GATEWAY_API_VERSION=v1.4.1
INFERENCE_EXTENSION_VERSION=v1.5.0
GKE_GATEWAY_API_COMMIT=fc40d606a5332f11a8883f85caff66b63c4e88ef

from_module "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" config/crd/standard \
  "GATEWAY_API_VERSION in tools/crds-gateway.sh (and catalog/gateway.go)" \
  gateway.networking.k8s.io_gatewayclasses.yaml \
  gateway.networking.k8s.io_gateways.yaml \
  gateway.networking.k8s.io_httproutes.yaml \
  gateway.networking.k8s.io_referencegrants.yaml
from_module "sigs.k8s.io/gateway-api-inference-extension@$INFERENCE_EXTENSION_VERSION" config/crd/bases \
  "INFERENCE_EXTENSION_VERSION in tools/crds-gateway.sh (and catalog/gateway.go)" \
  inference.networking.k8s.io_inferencepools.yaml

for file in networking.gke.io_healthcheckpolicies.yaml networking.gke.io_gcpbackendpolicies.yaml; do
  from_shared_or_url "$file" \
    "https://raw.githubusercontent.com/GoogleCloudPlatform/gke-gateway-api/$GKE_GATEWAY_API_COMMIT/config/crd/$file" \
    "gke-gateway-api@$GKE_GATEWAY_API_COMMIT"
done
