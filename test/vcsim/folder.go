package main

// Datastore file access (/folder) and CD-ROM reconfigures as vCenter does them, where
// 0.24.2 differs (virtual media, issue 14):
//   - /folder without a valid session cookie answers 401 (stock serves anyone);
//   - DELETE /folder/<path> removes the file: 204, or 404 (stock hands DELETE to
//     http.FileServer, which answers 200 with the file's content and deletes nothing);
//   - a PUT whose body breaks off answers 500 (stock answers 200 over a truncated file);
//   - counters for tests: control {"cmd":"folder"} → {"puts","putBytes","deletes","unauthorized"}.
//
// Flags:
//
//	-cdrom-eject-needs-poweroff   vSphere 8.0U2: a ReconfigVM_Task that switches a powered-on VM's
//	                              CD-ROM from an ISO backing to another backing type fails with
//	                              InvalidPowerState (theforeman/foreman_bootdisk#158). Also at
//	                              runtime: control {"cmd":"quirks","cdromEjectNeedsPowerOff":true}.

import (
	"bytes"
	"flag"
	"io"
	"io/ioutil"
	"net/http"
	"os"
	"path"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

var folderStats struct {
	puts, putBytes, deletes, unauthorized int64
}

var quirks = struct {
	sync.Mutex
	cdromEjectNeedsPowerOff bool
}{}

type folderExtension struct{ ejectNeedsPowerOff bool }

func init() { register(85, &folderExtension{}) }

func (e *folderExtension) flags(fs *flag.FlagSet) {
	fs.BoolVar(&e.ejectNeedsPowerOff, "cdrom-eject-needs-poweroff", false, "vSphere 8.0U2: no ISO→other CD-ROM backing change while powered on")
}
func (e *folderExtension) beforeCreate(*simulator.Model) error { return nil }
func (e *folderExtension) afterCreate(*simulator.Model) error {
	quirks.cdromEjectNeedsPowerOff = e.ejectNeedsPowerOff
	return nil
}
func (e *folderExtension) afterServe(*simulator.Model, *simulator.Server) error { return nil }
func (e *folderExtension) shutdown()                                            {}

func folderCounters() map[string]interface{} {
	return map[string]interface{}{
		"puts":         atomic.LoadInt64(&folderStats.puts),
		"putBytes":     atomic.LoadInt64(&folderStats.putBytes),
		"deletes":      atomic.LoadInt64(&folderStats.deletes),
		"unauthorized": atomic.LoadInt64(&folderStats.unauthorized),
	}
}

func setQuirks(ejectNeedsPowerOff *bool) {
	quirks.Lock()
	defer quirks.Unlock()
	if ejectNeedsPowerOff != nil {
		quirks.cdromEjectNeedsPowerOff = *ejectNeedsPowerOff
	}
}

// wrapFolder serves /folder with a session check, DELETE and honest PUT status; other paths pass.
func wrapFolder(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/folder/") {
			serveFolder(next, w, r)
			return
		}
		if r.Method == http.MethodPost && refuseEject(next, w, r) {
			return
		}
		next.ServeHTTP(w, r)
	})
}

func serveFolder(next http.Handler, w http.ResponseWriter, r *http.Request) {
	probe := r.Clone(r.Context())
	probe.URL.Path = "/sdk"
	if !authenticated(next, probe) {
		atomic.AddInt64(&folderStats.unauthorized, 1)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	switch r.Method {
	case http.MethodDelete:
		p, ok := folderFile(r)
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		if err := os.Remove(p); err != nil {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		atomic.AddInt64(&folderStats.deletes, 1)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPut, http.MethodPost:
		atomic.AddInt64(&folderStats.puts, 1)
		body := &countingReader{r: r.Body}
		r.Body = ioutil.NopCloser(body)
		rec := &deferredWriter{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if body.err != nil && body.err != io.EOF {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
	default:
		next.ServeHTTP(w, r)
	}
}

// folderFile is the local path of a /folder URL (the datastore named by dsName; dcPath is not needed:
// the model's datastore names are unique).
func folderFile(r *http.Request) (string, bool) {
	name := r.URL.Query().Get("dsName")
	for _, e := range simulator.Map.All("Datastore") {
		ds := e.(*simulator.Datastore)
		if ds.Name == name {
			rel := strings.TrimPrefix(r.URL.Path, "/folder/")
			return path.Join(ds.Info.GetDatastoreInfo().Url, path.Clean("/"+rel)), true
		}
	}
	return "", false
}

type countingReader struct {
	r   io.Reader
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	atomic.AddInt64(&folderStats.putBytes, int64(n))
	if err != nil {
		c.err = err
	}
	return n, err
}

// deferredWriter holds the stock handler's answer until we know the upload completed.
type deferredWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (d *deferredWriter) Header() http.Header         { return d.header }
func (d *deferredWriter) Write(b []byte) (int, error) { return d.body.Write(b) }
func (d *deferredWriter) WriteHeader(s int)           { d.status = s }

// refuseEject answers a ReconfigVM_Task with a task failing InvalidPowerState when the quirk is on,
// the VM is powered on, and the spec switches an ISO-backed CD-ROM to another backing type.
func refuseEject(next http.Handler, w http.ResponseWriter, r *http.Request) bool {
	quirks.Lock()
	on := quirks.cdromEjectNeedsPowerOff
	quirks.Unlock()
	if !on {
		return false
	}
	body, err := ioutil.ReadAll(io.LimitReader(r.Body, 64<<20))
	_ = r.Body.Close()
	r.Body = ioutil.NopCloser(bytes.NewReader(body))
	if err != nil || !bytes.Contains(body, []byte("ReconfigVM_Task")) {
		return false
	}
	method, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil || method.Name != "ReconfigVM_Task" {
		return false
	}
	req, ok := method.Body.(*types.ReconfigVM_Task)
	if !ok {
		return false
	}
	vm := asVM(simulator.Map.Get(req.This))
	if vm == nil || vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn || !authenticated(next, r) {
		return false
	}
	for _, c := range req.Spec.DeviceChange {
		spec := c.GetVirtualDeviceConfigSpec()
		cd, ok := spec.Device.(*types.VirtualCdrom)
		if !ok || spec.Operation != types.VirtualDeviceConfigSpecOperationEdit {
			continue
		}
		if _, iso := cd.Backing.(*types.VirtualCdromIsoBackingInfo); iso {
			continue
		}
		for _, d := range vm.Config.Hardware.Device {
			old, ok := d.(*types.VirtualCdrom)
			if !ok || old.Key != cd.Key {
				continue
			}
			if _, wasIso := old.Backing.(*types.VirtualCdromIsoBackingInfo); !wasIso {
				continue
			}
			task := simulator.CreateTask(vm, "reconfigVm", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
				return nil, &types.InvalidPowerState{RequestedState: types.VirtualMachinePowerStatePoweredOff, ExistingState: types.VirtualMachinePowerStatePoweredOn}
			})
			ref := task.Run()
			writeSOAP(w, struct {
				Res *types.ReconfigVM_TaskResponse `xml:"urn:vim25 ReconfigVM_TaskResponse"`
			}{&types.ReconfigVM_TaskResponse{Returnval: ref}})
			return true
		}
	}
	return false
}
