package sigma

import (
	"fmt"

	"github.com/entrawatch/entrawatch/internal/record"
)

// logsourceKinds maps Sigma logsources to the record kinds entrawatch
// reads. Keys are "product/service" or "product/category".
var logsourceKinds = map[string][]record.Kind{
	"azure/signinlogs":                 {record.KindSignIn},
	"azure/signin":                     {record.KindSignIn},
	"azure/noninteractivesigninlogs":   {record.KindSignIn},
	"azure/serviceprincipalsigninlogs": {record.KindSignIn},
	"azure/managedidentitysigninlogs":  {record.KindSignIn},
	"azure/auditlogs":                  {record.KindAudit},
	"azure/audit":                      {record.KindAudit},
	"azure/activitylogs":               {record.KindActivity},
	"azure/riskdetection":              {record.KindRiskDetection},
	"azure/pim":                        {record.KindRiskDetection},
	"azure/devices":                    {record.KindDevice},
	"linux/auth":                       {record.KindSyslog},
	"linux/sshd":                       {record.KindSyslog},
	"linux/syslog":                     {record.KindSyslog},
	// A product alone: every record of that product entrawatch reads.
	"linux/":           {record.KindSyslog},
	"windows/":         {record.KindWindowsEvent},
	"windows/security": {record.KindWindowsEvent},
}

// Kinds returns the record kinds a logsource selects, or an error naming
// what entrawatch cannot read.
func (l Logsource) Kinds() ([]record.Kind, error) {
	if l.Product == "" && l.Service == "" && l.Category == "" {
		return nil, fmt.Errorf("the rule has no logsource")
	}
	if l.Service != "" {
		if k, ok := logsourceKinds[l.Product+"/"+l.Service]; ok {
			return k, nil
		}
	}
	if l.Category != "" {
		if k, ok := logsourceKinds[l.Product+"/"+l.Category]; ok {
			return k, nil
		}
	}
	if l.Service == "" && l.Category == "" {
		if k, ok := logsourceKinds[l.Product+"/"]; ok {
			return k, nil
		}
	}
	return nil, fmt.Errorf("logsource %s: entrawatch reads no such records (it reads Entra sign-ins, audits, devices, policies, risk detections, Azure Activity, Linux auth/sshd syslog and Windows Security events)", l)
}

func (l Logsource) String() string {
	s := "product " + orDash(l.Product)
	if l.Service != "" {
		s += ", service " + l.Service
	}
	if l.Category != "" {
		s += ", category " + l.Category
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
