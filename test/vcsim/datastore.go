package main

// One datastore directory shared by several simulator processes ("hosts"), as a
// VMFS/NFS datastore is shared by the hosts of a cluster.
//
// Flags:
//
//	-datastore-dir [NAME=]PATH   mount PATH on every host of this process as datastore NAME (default
//	                             name "shared-ds"); repeatable. Every process given the same PATH and NAME
//	                             sees the same datastore: same name, same moref (PATH@<datastore folder>),
//	                             same summary.url "ds:///vmfs/volumes/<uuid>/" (uuid derived from PATH).
//	                             PATH is created if missing and never deleted by the simulator.
//	-datastore-uuid NAME=UUID    override the volume uuid in summary.url for datastore NAME in this process
//	                             (e.g. a resignatured "snap-" copy: same files, different /vmfs/volumes path).
//
// VMs whose vmx lives on such a datastore get vmx locks, the uuid question and persistence (sharedvm.go).

import (
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

type sharedDatastore struct {
	name string
	dir  string // absolute
	uuid string // volume uuid shown in summary.url
}

// sharedDatastores by name; filled before the server starts, read-only afterwards.
var sharedDatastores = map[string]*sharedDatastore{}

type datastoreExtension struct {
	dirs  listFlag
	uuids listFlag
}

func init() { register(20, &datastoreExtension{}) }

func (e *datastoreExtension) flags(fs *flag.FlagSet) {
	fs.Var(&e.dirs, "datastore-dir", "[NAME=]PATH: a datastore directory shared with other processes (repeatable)")
	fs.Var(&e.uuids, "datastore-uuid", "NAME=UUID: volume uuid for a shared datastore's summary.url (repeatable)")
}

func (e *datastoreExtension) beforeCreate(*simulator.Model) error {
	for _, spec := range e.dirs {
		name, dir := "shared-ds", spec
		if i := strings.Index(spec, "="); i > 0 {
			name, dir = spec[:i], spec[i+1:]
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fmt.Errorf("-datastore-dir %s: %w", spec, err)
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return fmt.Errorf("-datastore-dir %s: %w", spec, err)
		}
		if _, dup := sharedDatastores[name]; dup {
			return fmt.Errorf("-datastore-dir: datastore %q given twice", name)
		}
		sharedDatastores[name] = &sharedDatastore{name: name, dir: abs, uuid: vmfsUUID("datastore:" + abs)}
	}
	for _, spec := range e.uuids {
		i := strings.Index(spec, "=")
		if i <= 0 {
			return fmt.Errorf("-datastore-uuid %q: expected NAME=UUID", spec)
		}
		ds, ok := sharedDatastores[spec[:i]]
		if !ok {
			return fmt.Errorf("-datastore-uuid %q: no -datastore-dir named %q", spec, spec[:i])
		}
		ds.uuid = spec[i+1:]
	}
	return nil
}

func (e *datastoreExtension) afterCreate(*simulator.Model) error {
	ctx := internalContext()
	for _, name := range sortedKeys(sharedDatastores) {
		sds := sharedDatastores[name]
		for _, h := range allHosts() {
			dss, ok := simulator.Map.Get(*h.ConfigManager.DatastoreSystem).(*simulator.HostDatastoreSystem)
			if !ok {
				return fmt.Errorf("host %s has no datastore system", h.Name)
			}
			var fault error
			simulator.Map.WithLock(dss, func() {
				r := dss.CreateLocalDatastore(ctx, &types.CreateLocalDatastore{This: dss.Self, Name: name, Path: sds.dir})
				if f := r.Fault(); f != nil {
					// The same datastore mounted on a second host of this process is a DuplicateName for the folder; fine.
					if _, dup := f.VimFault().(*types.DuplicateName); !dup {
						fault = fmt.Errorf("mounting %s on %s: %s", name, h.Name, f.String)
					}
				}
			})
			if fault != nil {
				return fault
			}
		}
		for _, e := range simulator.Map.All("Datastore") {
			ds := e.(*simulator.Datastore)
			if ds.Name == name {
				ds.Summary.Url = "ds:///vmfs/volumes/" + sds.uuid + "/"
				ds.Summary.Type = "VMFS"
			}
		}
	}
	return nil
}

func (e *datastoreExtension) afterServe(*simulator.Model, *simulator.Server) error { return nil }
func (e *datastoreExtension) shutdown()                                            {}

// sharedFile maps "[ds] dir/x.vmx" to the local file, if ds is a shared datastore.
func sharedFile(dsPath string) (abs string, ds *sharedDatastore, ok bool) {
	var p object.DatastorePath
	if !p.FromString(dsPath) {
		return "", nil, false
	}
	ds, ok = sharedDatastores[p.Datastore]
	if !ok {
		return "", nil, false
	}
	return filepath.Join(ds.dir, filepath.FromSlash(path.Clean("/"+p.Path))), ds, true
}

// volumePath is the path the host would show for a file: /vmfs/volumes/<uuid>/dir/x.vmx.
func volumePath(dsPath string) string {
	var p object.DatastorePath
	if !p.FromString(dsPath) {
		return dsPath
	}
	if ds, ok := sharedDatastores[p.Datastore]; ok {
		return "/vmfs/volumes/" + ds.uuid + "/" + p.Path
	}
	return dsPath
}
