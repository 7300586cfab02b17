package detect

import (
	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/rule"
)

// generic holds the fields used to describe records of any kind.
var generic = func() *genericFields {
	c := rule.NewCompiler()
	return &genericFields{fields: newFields(c), computer: c.Field("Computer"), hostName: c.Field("HostName"),
		targetUser: c.Field("TargetUserName"), targetDomain: c.Field("TargetDomainName"), winIP: c.Field("IpAddress"),
		caller: c.Field("Caller"), callerIP: c.Field("CallerIpAddress")}
}()

type genericFields struct {
	*fields
	computer, hostName, targetUser, targetDomain, winIP, caller, callerIP *record.Field
}

// NewAlert starts an alert for a record matched by a detection: the
// detection's id, title and severity, the record's time, source and a copy
// of its bytes, and the entities its kind carries.
func NewAlert(info *Info, r *record.Record) *alert.Alert {
	a := (&base{info: *info}).newAlert(r, "")
	DescribeEntities(r, a)
	return a
}

// DescribeEntities fills an alert's entities from a record of any kind.
func DescribeEntities(r *record.Record, a *alert.Alert) {
	g := generic
	switch r.Kind {
	case record.KindSignIn:
		g.signinEntities(r, a)
	case record.KindAudit:
		g.auditEntities(r, a)
	case record.KindDevice:
		a.Entities.DeviceID = record.Text(r.Get(g.devDeviceID))
		a.Entities.DeviceName = record.Text(r.Get(g.displayName))
	case record.KindSyslog:
		a.Entities.Host = record.Text(r.Get(g.computer))
		if a.Entities.Host == "" {
			a.Entities.Host = record.Text(r.Get(g.hostName))
		}
	case record.KindWindowsEvent:
		a.Entities.Host = record.Text(r.Get(g.computer))
		u, d := record.Text(r.Get(g.targetUser)), record.Text(r.Get(g.targetDomain))
		if u != "" && d != "" {
			u = d + `\` + u
		}
		a.Entities.User = u
		if ip := record.Text(r.Get(g.winIP)); ip != "-" {
			a.Entities.IP = ip
		}
	case record.KindActivity:
		a.Entities.User = record.Text(r.Get(g.caller))
		a.Entities.IP = record.Text(r.Get(g.callerIP))
	default:
		a.Entities.User = record.Text(r.Get(g.upn))
		a.Entities.IP = record.Text(r.Get(g.ip))
	}
}
