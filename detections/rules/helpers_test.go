package rules

import "github.com/canhgac/canhgac/detections/sigma"

func sigmaOpts() sigma.LoadOptions { return sigma.LoadOptions{} }
