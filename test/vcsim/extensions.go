package main

import (
	"flag"
	"sort"

	"github.com/vmware/govmomi/simulator"
)

// extension is one feature that real ESXi/vCenter have and the 0.24.2
// simulator lacks. Each lives in its own file and registers itself in init().
type extension interface {
	// flags registers the extension's command-line flags.
	flags(fs *flag.FlagSet)
	// beforeCreate may adjust the model before the inventory is built.
	beforeCreate(m *simulator.Model) error
	// afterCreate patches the built inventory (before the server starts).
	afterCreate(m *simulator.Model) error
	// afterServe runs once the server listens (control sockets, heartbeats).
	afterServe(m *simulator.Model, s *simulator.Server) error
	// shutdown releases what the extension holds (locks, sockets, state files).
	shutdown()
}

type registration struct {
	order int
	ext   extension
}

var registered []registration

// register adds an extension; lower order runs first (identity before datastores
// before locks before VM wrapping before restoring the inventory).
func register(order int, e extension) {
	registered = append(registered, registration{order, e})
}

type extensionSet struct{ list []extension }

func registerExtensionFlags(fs *flag.FlagSet) *extensionSet {
	sort.SliceStable(registered, func(i, j int) bool { return registered[i].order < registered[j].order })
	set := &extensionSet{}
	for _, r := range registered {
		r.ext.flags(fs)
		set.list = append(set.list, r.ext)
	}
	return set
}

func (s *extensionSet) beforeCreate(m *simulator.Model) error {
	for _, e := range s.list {
		if err := e.beforeCreate(m); err != nil {
			return err
		}
	}
	return nil
}

func (s *extensionSet) afterCreate(m *simulator.Model) error {
	for _, e := range s.list {
		if err := e.afterCreate(m); err != nil {
			return err
		}
	}
	return nil
}

func (s *extensionSet) afterServe(m *simulator.Model, srv *simulator.Server) error {
	for _, e := range s.list {
		if err := e.afterServe(m, srv); err != nil {
			return err
		}
	}
	return nil
}

func (s *extensionSet) shutdown() {
	for i := len(s.list) - 1; i >= 0; i-- {
		s.list[i].shutdown()
	}
}

// hostName is the name to put in the TLS certificate (set by the identity extension).
var certHostName = "localhost"

func (s *extensionSet) hostName() string { return certHostName }

// controlSocket is the control channel's path, if one was opened (control.go).
var controlSocket string

func (s *extensionSet) controlPath() string { return controlSocket }
