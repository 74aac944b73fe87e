// Package stacks turns a stack's configuration into llmserve's resources: Load reads and
// validates the typed Config (a model profile from models/ merged under the stack's
// overrides), and Program wires the components for it.
package stacks
