package main

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/llmserve/llmserve/catalog"
	"github.com/llmserve/llmserve/stacks"
	"github.com/spf13/cobra"
)

func newModelsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "models",
		Short: "List the model profiles and how each fits its accelerator",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "PROFILE\tENGINE\tMODEL\tACCELERATOR\tTP\tWEIGHTS\tNEEDS\tHAS\tFITS\tSMALLEST\tREPLICAS\tSCALES ON")
			for _, name := range stacks.ProfileNames() {
				p, err := stacks.LoadProfile(name)
				if err != nil {
					return failed(err)
				}
				s := stacks.Size(p)
				acc := p.Accelerator.Type + " " + p.Accelerator.Topology
				if p.Accelerator.Count > 0 {
					acc = fmt.Sprintf("%s x%d", p.Accelerator.Type, p.Accelerator.Count)
				}
				metrics := ""
				for i, m := range p.Autoscaling.Metrics {
					if i > 0 {
						metrics += ", "
					}
					metrics += fmt.Sprintf("%s>%v", m.Metric, m.Target)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%.0f GB\t%.0f GB\t%.0f GB\t%s\t%s\t%d-%d\t%s\n",
					name, p.Engine, p.Model, acc, p.Server.TensorParallelSize, s.WeightsGB, s.NeedGB, s.HaveGB,
					yesNo(s.Fits), s.Smallest, p.Autoscaling.MinReplicas, p.Autoscaling.MaxReplicas, metrics)
			}
			return w.Flush()
		},
	}
}

func newMetricsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "metrics",
		Short: "List the metrics the HPA can scale on, and through which adapters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "METRIC\tENGINES\tADAPTERS\tHPA NAME (stackdriver)\tUNIT\tMEANING")
			for _, m := range catalog.KnownMetrics() {
				engines := strings.Join(m.Engines, ",")
				if engines == "" {
					engines = "any"
				}
				hpa := catalog.HPAMetricFor(catalog.AdapterStackdriver, m)
				name := hpa.Type + " " + hpa.Name
				if !slices.Contains(m.Adapters, catalog.AdapterStackdriver) {
					name = "-"
				}
				rng := map[catalog.Unit]string{catalog.UnitCount: "count >0", catalog.UnitFraction: "fraction 0..1",
					catalog.UnitPercent: "percent 0..100", catalog.UnitBytes: "bytes"}[m.Unit]
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, engines, strings.Join(m.Adapters, ","), name, rng, m.Help)
			}
			return w.Flush()
		},
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}
