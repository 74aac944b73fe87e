// Package catalog holds llmserve's facts about the things it deploys: TPU slices and GPU
// machine shapes, the metrics an HPA can scale on (their sources, units and adapters), the
// engines, and the values of every enumerated config key. Components, config validation,
// the llmserve command and the lab all read them here, so a fact is written once, next to
// its source.
package catalog
