package stacks

import (
	"maps"
	"slices"
)

// validateWritten refuses every key written with no value (null, "" or an empty top-level
// key): defaults apply to keys left out, never to a value the user wrote, so an empty one is
// a mistake to name rather than a default to apply silently (issue 21).
func (c *Config) validateWritten(p *problems) {
	for _, k := range c.emptyTop {
		*p = append(*p, emptyKeyError(Namespace+":"+k))
	}
	for _, sec := range slices.Sorted(maps.Keys(c.written)) {
		for _, k := range c.written[sec].emptyKeys() {
			if sec == "overrides" && profileMayBeEmpty[k] {
				continue
			}
			*p = append(*p, emptyKeyError(Namespace+":"+sec+"."+k))
		}
	}
}

// wrote says whether the config wrote a field of a section ("overrides" for the profile).
func (c *Config) wrote(section, key string) bool { return c.written[section].has(key) }
