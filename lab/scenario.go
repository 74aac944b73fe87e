package lab

import (
	"fmt"
	"strings"
	"time"
)

// Phase holds the arrival rate for a while. Load is the rate in units of one replica's
// capacity (ServerModel.Capacity), so a scenario means the same for every profile: 2.5 is
// two and a half replicas' worth of requests.
type Phase struct {
	Name     string
	Duration time.Duration
	Load     float64
}

// Scenario is a bounded sequence of load phases.
type Scenario struct {
	Name   string
	Phases []Phase
}

// Scenarios are the named scenarios of the lab command (-scenario).
var Scenarios = map[string]Scenario{
	// short: the `make demo` default, about 4 minutes: steady at half a replica, a step to
	// 2.5 replicas' worth for 90 s (the HPA should go to 3), then back to a trickle long
	// enough for the queue to drain and the 30 s scale-down window to pass.
	"short": {Name: "short", Phases: []Phase{
		{"base", 30 * time.Second, 0.5}, {"step", 90 * time.Second, 2.5}, {"drop", 120 * time.Second, 0.2},
	}},
	// long: a slower ramp through 1.5 and 3.5 replicas' worth, for a fuller picture.
	"long": {Name: "long", Phases: []Phase{
		{"base", 60 * time.Second, 0.5}, {"ramp", 120 * time.Second, 1.5}, {"peak", 180 * time.Second, 3.5},
		{"drop", 180 * time.Second, 0.2},
	}},
}

// LookupScenario returns a named scenario.
func LookupScenario(name string) (Scenario, error) {
	s, ok := Scenarios[name]
	if !ok {
		var names []string
		for n := range Scenarios {
			names = append(names, n)
		}
		return Scenario{}, fmt.Errorf("lab scenario %q: want one of %s", name, strings.Join(names, ", "))
	}
	return s, nil
}

// Duration is the scenario's length.
func (s Scenario) Duration() time.Duration {
	var d time.Duration
	for _, p := range s.Phases {
		d += p.Duration
	}
	return d
}

// At returns the phase in force at t since the start (the last one after the end).
func (s Scenario) At(t time.Duration) Phase {
	for _, p := range s.Phases {
		if t < p.Duration {
			return p
		}
		t -= p.Duration
	}
	if len(s.Phases) == 0 {
		return Phase{}
	}
	return s.Phases[len(s.Phases)-1]
}

// Start returns when the named phase begins.
func (s Scenario) Start(name string) (time.Duration, bool) {
	var d time.Duration
	for _, p := range s.Phases {
		if p.Name == name {
			return d, true
		}
		d += p.Duration
	}
	return 0, false
}
