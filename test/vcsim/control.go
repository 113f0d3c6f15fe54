package main

// A control channel for tests: flip values, inject events, and kill or revive
// the "host agent" (the SOAP endpoint) while VMs and their lock heartbeats live on.
//
// Flags:
//
//	-control PATH   listen on a unix socket at PATH ("auto": $TMPDIR/vcsim-<pid>.sock); the path is
//	                in the ready line's "control" field and removed at exit.
//
// Protocol: one JSON object per line in, one JSON line out ({"ok":true,...} or {"ok":false,"error":"…"}).
//
//	{"cmd":"ping"}
//	{"cmd":"agent","state":"running|stopped|unavailable|hung"}
//	    stopped: the SOAP port refuses connections (hostd dead; VMs and lock heartbeats keep running)
//	    unavailable: the port answers every request with HTTP 503 (rhttpproxy up, hostd down)
//	    hung: the port accepts requests and never answers (until the state changes)
//	    running: serve SOAP again on the same address, same certificate
//	{"cmd":"event","host":"NAME","vm":"NAME","eventTypeId":"esx.problem…","message":"…","severity":"error"}
//	{"cmd":"host","host":"NAME","spec":{…hostSpec, see hostspec.go…}}   ("" = the first/only host)
//	{"cmd":"vm","vm":"NAME","spec":{"featureRequirement":{…}}}
//	{"cmd":"cluster","cluster":"NAME","spec":{"currentEVCModeKey":"…"}}
//	{"cmd":"portgroup","portgroup":"NAME","spec":{"type":"ephemeral|earlyBinding|lateBinding"}}
//	{"cmd":"about","version":"7.0.3","build":"20395099"}               (the endpoint's ServiceContent.about)
//	{"cmd":"vms"}   → {"vms":[{"moref","name","path","powerState","uuid","question","lock"}]}
//	{"cmd":"lock","path":"[shared-ds] vcsa/vcsa.vmx"} → {"lock":{"locked","stale","mine","host","pid","ageMs"}}
//	{"cmd":"folder"} → {"folder":{"puts","putBytes","deletes","unauthorized"}}   (folder.go)
//	{"cmd":"quirks","cdromEjectNeedsPowerOff":true|false}                        (folder.go)
//
// Signals: SIGUSR1 = agent stopped, SIGUSR2 = agent running.

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/vmware/govmomi/simulator"
)

type controlExtension struct {
	path     string
	listener net.Listener
}

func init() { register(90, &controlExtension{}) }

func (e *controlExtension) flags(fs *flag.FlagSet) {
	fs.StringVar(&e.path, "control", "", "unix socket for test control commands (\"auto\" picks a path)")
}

func (e *controlExtension) beforeCreate(*simulator.Model) error { return nil }
func (e *controlExtension) afterCreate(*simulator.Model) error  { return nil }

func (e *controlExtension) afterServe(m *simulator.Model, s *simulator.Server) error {
	agentCtl.srv = s
	agentCtl.state = "running"
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2)
	go func() {
		for sig := range sigs {
			state := "stopped"
			if sig == syscall.SIGUSR2 {
				state = "running"
			}
			if err := agentCtl.set(state); err != nil {
				log.Printf("%s: %v", sig, err)
			}
		}
	}()
	if e.path == "" {
		return nil
	}
	if e.path == "auto" {
		e.path = filepath.Join(os.TempDir(), fmt.Sprintf("vcsim-%d.sock", os.Getpid()))
	}
	_ = os.Remove(e.path)
	l, err := net.Listen("unix", e.path)
	if err != nil {
		return fmt.Errorf("-control: %w", err)
	}
	e.listener = l
	controlSocket = e.path
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go serveControl(c)
		}
	}()
	return nil
}

func (e *controlExtension) shutdown() {
	if e.listener != nil {
		_ = e.listener.Close()
		_ = os.Remove(e.path)
	}
	_ = agentCtl.set("stopped")
}

type controlRequest struct {
	Cmd         string          `json:"cmd"`
	State       string          `json:"state"`
	Host        *string         `json:"host"`
	VM          string          `json:"vm"`
	Cluster     string          `json:"cluster"`
	Portgroup   string          `json:"portgroup"`
	EventTypeId string          `json:"eventTypeId"`
	Message     string          `json:"message"`
	Severity    string          `json:"severity"`
	Spec        json.RawMessage `json:"spec"`
	Version     string          `json:"version"`
	Build       string          `json:"build"`
	Path        string          `json:"path"`
	// quirks (folder.go)
	CdromEjectNeedsPowerOff *bool `json:"cdromEjectNeedsPowerOff"`
}

func serveControl(c net.Conn) {
	defer c.Close()
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	enc := json.NewEncoder(c)
	for sc.Scan() {
		var req controlRequest
		out := map[string]interface{}{"ok": true}
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			out = map[string]interface{}{"ok": false, "error": "bad request: " + err.Error()}
		} else if res, err := handleControl(req); err != nil {
			out = map[string]interface{}{"ok": false, "error": err.Error()}
		} else {
			for k, v := range res {
				out[k] = v
			}
		}
		if err := enc.Encode(out); err != nil {
			return
		}
	}
}

func decodeSpec(raw json.RawMessage, v interface{}) error {
	if len(raw) == 0 {
		return fmt.Errorf("spec is required")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("spec: %w", err)
	}
	return nil
}

func handleControl(req controlRequest) (map[string]interface{}, error) {
	switch req.Cmd {
	case "ping":
		return nil, nil
	case "agent":
		return nil, agentCtl.set(req.State)
	case "event":
		return nil, postEventSpec(eventSpec{Host: req.Host, VM: req.VM, EventTypeId: req.EventTypeId, Message: req.Message, Severity: req.Severity})
	case "host":
		var spec hostSpec
		if err := decodeSpec(req.Spec, &spec); err != nil {
			return nil, err
		}
		name := ""
		if req.Host != nil {
			name = *req.Host
		}
		h := findHost(name)
		if h == nil {
			return nil, fmt.Errorf("no host named %q", name)
		}
		applyHostSpec(h, spec)
		return nil, nil
	case "vm":
		var spec vmSpec
		if err := decodeSpec(req.Spec, &spec); err != nil {
			return nil, err
		}
		vm := findVM(req.VM)
		if vm == nil {
			return nil, fmt.Errorf("no VM named %q", req.VM)
		}
		applyVMSpec(vm, spec)
		return nil, nil
	case "cluster":
		var spec clusterSpec
		if err := decodeSpec(req.Spec, &spec); err != nil {
			return nil, err
		}
		return nil, applyClusterSpec(req.Cluster, spec)
	case "portgroup":
		var spec portgroupSpec
		if err := decodeSpec(req.Spec, &spec); err != nil {
			return nil, err
		}
		return nil, applyPortgroupSpec(req.Portgroup, spec)
	case "about":
		setAbout(req.Version, req.Build)
		return nil, nil
	case "vms":
		return map[string]interface{}{"vms": listVMs()}, nil
	case "folder":
		return map[string]interface{}{"folder": folderCounters()}, nil
	case "quirks":
		setQuirks(req.CdromEjectNeedsPowerOff)
		return nil, nil
	case "lock":
		abs, _, ok := sharedFile(req.Path)
		if !ok {
			return nil, fmt.Errorf("%q is not on a -datastore-dir datastore", req.Path)
		}
		return map[string]interface{}{"lock": lockInfo(abs)}, nil
	}
	return nil, fmt.Errorf("unknown cmd %q", req.Cmd)
}

func listVMs() []map[string]interface{} {
	out := []map[string]interface{}{}
	for _, e := range simulator.Map.All("VirtualMachine") {
		vm := asVM(e)
		if vm == nil {
			continue
		}
		var item map[string]interface{}
		simulator.Map.WithLock(e, func() {
			item = map[string]interface{}{
				"moref":      vm.Self.Value,
				"name":       vm.Name,
				"path":       vm.Config.Files.VmPathName,
				"powerState": vm.Runtime.PowerState,
				"uuid":       vm.Config.Uuid,
			}
			if q := vm.Runtime.Question; q != nil {
				item["question"] = q.Id
			}
		})
		if abs, _, ok := sharedFile(vm.Config.Files.VmPathName); ok {
			item["lock"] = lockInfo(abs)
		}
		out = append(out, item)
	}
	return out
}

// agentControl switches what the SOAP port does. The simulator's own server
// runs until the first change; after that this process serves the port itself
// with the simulator's handler and certificate.
type agentControl struct {
	mu      sync.Mutex
	srv     *simulator.Server
	state   string
	own     *http.Server
	release chan struct{}
}

var agentCtl = &agentControl{}

func (a *agentControl) set(state string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.srv == nil {
		return fmt.Errorf("agent: server not started")
	}
	switch state {
	case "running", "stopped", "unavailable", "hung":
	default:
		return fmt.Errorf("agent: state must be running, stopped, unavailable or hung; got %q", state)
	}
	if state == a.state {
		return nil
	}
	addr := a.srv.Listener.Addr().String()
	handler := a.srv.Config.Handler
	tlsConfig := a.srv.TLS
	// Stop whatever serves the port now.
	if a.own != nil {
		_ = a.own.Close()
		a.own = nil
	} else if a.state == "running" {
		a.srv.CloseClientConnections()
		a.srv.Close()
	}
	if a.release != nil {
		close(a.release)
		a.release = nil
	}
	log.Printf("agent: %s -> %s", a.state, state)
	a.state = state
	switch state {
	case "stopped":
		return nil
	case "unavailable":
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "503 Service Unavailable", http.StatusServiceUnavailable)
		})
	case "hung":
		release := make(chan struct{})
		a.release = release
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		a.state = "stopped"
		return fmt.Errorf("agent: listen %s: %w", addr, err)
	}
	if tlsConfig != nil {
		l = tls.NewListener(l, tlsConfig)
	}
	a.own = &http.Server{Handler: handler}
	go func(s *http.Server) { _ = s.Serve(l) }(a.own)
	return nil
}
