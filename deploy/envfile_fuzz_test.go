package deploy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzEnvFile feeds arbitrary env files through everything the llmserve command does with
// one before the engine: the reader, the settings conversion, line annotation and the full
// validation (Load under mocks). Nothing may panic; a file the reader accepts must give
// settings and values that convert and validate to an answer (nil or an error).
func FuzzEnvFile(f *testing.F) {
	for _, env := range []string{"dev", "prod", "local"} {
		if raw, err := os.ReadFile(filepath.Join("..", "Pulumi."+env+".yaml")); err == nil {
			f.Add(raw)
		}
	}
	f.Add([]byte("config:\n  llmserve:pool: {maxNodes: 2.7, spot: yes}\n"))
	f.Add([]byte("config:\n  llmserve:overrides: {kvCacheHeadroom: .nan}\n"))
	f.Add([]byte("config: [a]\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		file, err := ParseEnvFile("Pulumi.f.yaml", raw)
		if err != nil {
			if !strings.Contains(err.Error(), "Pulumi.f.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		settings, model, err := SettingsFromConfig(file.Values)
		if err != nil {
			_ = file.Annotate(err.Error(), nil)
			return
		}
		if _, err := Check(Target{Env: "f", Model: model}, settings); err != nil {
			_ = file.Annotate(err.Error(), []string{"llmserve:model"})
		}
	})
}
