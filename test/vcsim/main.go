// Command vcsim runs the govmomi 0.24.2 vCenter/ESXi simulator for esxkit's
// tests and demo. Build it with scripts/build-vcsim.sh (GOPATH mode, no modules).
//
// Once listening it prints ONE JSON line on stdout:
//
//	{"url":"https://127.0.0.1:PORT/sdk","thumbprint_sha256":"AA:..","thumbprint_sha1":"..",
//	 "mode":"vpx","pid":123,"cert_pem":"-----BEGIN CERTIFICATE-----\n..","control":"/tmp/vcsim-123.sock"}
//
// and then serves until SIGTERM/SIGINT (exit 0), or stdin EOF with -exit-on-stdin-eof.
// Everything else (simulator logs, errors) goes to stderr.
//
// Flags — model:
//
//	-mode vpx|esx          vpx: a vCenter inventory; esx: one standalone ESXi host (ha-* morefs). Default vpx.
//	-dc N                  datacenters (vpx, default 1)
//	-cluster N             clusters per datacenter (vpx, default 1)
//	-host N                hosts per cluster (vpx, default 3)
//	-standalone-host N     standalone hosts per datacenter (vpx, default 1)
//	-vm N                  VMs per host / per cluster resource pool (default 2)
//	-pool N                extra resource pools per cluster (vpx, default 0)
//	-folder N              datacenters placed inside folders (vpx, default 0)
//	-ds N                  local datastores LocalDS_0.. shared by all hosts of a datacenter (default 1)
//	-pg N                  distributed portgroups per datacenter (vpx, default 1)
//	-app N                 vApps per cluster (vpx, default 0)
//	-pod N                 storage pods per datacenter (vpx, default 0)
//	-autostart=BOOL        power on the model's VMs (default true)
//
// Flags — server:
//
//	-listen ADDR           listen address (default 127.0.0.1:0 = a free port)
//	-tls=BOOL              HTTPS with a self-signed certificate (default true); false = plain http
//	-tls-cert FILE         with -tls-key: load this certificate pair if it exists, else generate one and
//	-tls-key FILE          write it there (so a restarted "host" keeps its thumbprint)
//	-cert-out FILE         write the served certificate (PEM) here, e.g. for CA-file tests
//	-username U            the only accepted login (default "user")
//	-password P            its password (default "pass"); anything else fails Login with InvalidLogin
//	-exit-on-stdin-eof     exit when stdin reaches EOF (the parent died or closed the pipe)
//	-die-with-parent       Linux: get SIGKILL when the parent process dies (also when this process is
//	                       SIGSTOPped and so cannot read stdin EOF)
//	-trace                 log every SOAP request/response to stderr
//
// Flags — extensions (each documented in detail in the file named):
//
//	-hosts JSON            hostspec.go  per-host specs keyed by host name ("*" = all): name, uuid, version, build,
//	                                    featureCapability, maskedFeatureCapability, maxEVCModeKey, currentEVCModeKey,
//	                                    usbBoot, hbas, services, firewall, configIssues, connectionState, inMaintenanceMode
//	-vms JSON              hostspec.go  per-VM specs keyed by VM name: featureRequirement
//	-clusters JSON         hostspec.go  per-cluster specs keyed by cluster name: currentEVCModeKey
//	-portgroups JSON       hostspec.go  per-DVPG specs keyed by name: type (default earlyBinding for every DVPG)
//	-vc-version V          hostspec.go  vCenter about.version (vpx)
//	-vc-build B            hostspec.go  vCenter about.build (vpx)
//	-host-version V        hostspec.go  every host's product version (esx: also about.version)
//	-host-build B          hostspec.go  every host's product build (esx: also about.build)
//	-host-name NAME        hostspec.go  esx: the host's name
//	-host-uuid UUID        hostspec.go  esx: the host's hardware uuid (default: from -host-name, else random)
//	-events JSON           events.go    EventEx records posted at startup: [{"host","vm","eventTypeId","message","severity"}]
//	-datastore-dir [N=]P   datastore.go a datastore directory shared with other processes (repeatable; name default shared-ds)
//	-datastore-uuid N=U    datastore.go volume uuid shown in datastore N's summary.url (default derived from its path)
//	-lock-ttl SECONDS      vmlock.go    a vmx lock without heartbeat for this long is stale (default 10)
//	-uuid-question P       sharedvm.go  when PowerOnVM_Task asks msg.uuid.altered: host (default), path, never
//	-state FILE            state.go     persisted inventory of VMs on shared datastores
//	-shared-vm SPEC        state.go     NAME[@DATASTORE][:on]: create or register a shared VM at startup (repeatable)
//	-control PATH|auto     control.go   unix socket for test commands (agent state, events, host specs, locks)
//	-cdrom-eject-needs-poweroff folder.go  vSphere 8.0U2: ISO→other CD-ROM backing change refused while powered on
//
// Also: QueryEvents is answered vCenter-style (eventquery.go) and event collectors are refilled correctly
// (collectorfix.go); /folder checks the session, deletes, and reports broken uploads (folder.go); ReconfigVM_Task publishes its changes (reconfig_updates.go); services, firewall and USB boot
// data are per host (services.go, usbboot.go); vmx files carry identity and hardware (vmx.go, vmxhw.go).
// Signals: SIGTERM/SIGINT exit cleanly (locks released); SIGUSR1/SIGUSR2 stop/start the SOAP "host agent".
package main

import (
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/vmware/govmomi/simulator"
)

type options struct {
	mode           string
	listen         string
	useTLS         bool
	tlsCert        string
	tlsKey         string
	certOut        string
	username       string
	password       string
	exitOnStdinEOF bool
	dieWithParent  bool
	trace          bool
}

// readyLine is the one JSON line the harness waits for.
type readyLine struct {
	URL              string `json:"url"`
	ThumbprintSHA256 string `json:"thumbprint_sha256,omitempty"`
	ThumbprintSHA1   string `json:"thumbprint_sha1,omitempty"`
	Mode             string `json:"mode"`
	Pid              int    `json:"pid"`
	CertPEM          string `json:"cert_pem,omitempty"`
	Control          string `json:"control,omitempty"`
}

func main() {
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	log.SetPrefix(fmt.Sprintf("vcsim[%d] ", os.Getpid()))
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "vcsim: %v\n", err)
		os.Exit(2)
	}
}

func run() error {
	var o options
	vpx := simulator.VPX()
	fs := flag.CommandLine
	fs.StringVar(&o.mode, "mode", "vpx", "vpx or esx")
	dc := fs.Int("dc", vpx.Datacenter, "datacenters (vpx)")
	cluster := fs.Int("cluster", vpx.Cluster, "clusters per datacenter (vpx)")
	host := fs.Int("host", vpx.ClusterHost, "hosts per cluster (vpx)")
	standalone := fs.Int("standalone-host", vpx.Host, "standalone hosts per datacenter (vpx)")
	vm := fs.Int("vm", vpx.Machine, "VMs per host / cluster pool")
	pool := fs.Int("pool", vpx.Pool, "extra resource pools per cluster (vpx)")
	folder := fs.Int("folder", vpx.Folder, "datacenters inside folders (vpx)")
	ds := fs.Int("ds", vpx.Datastore, "local datastores")
	pg := fs.Int("pg", vpx.Portgroup, "distributed portgroups per datacenter (vpx)")
	app := fs.Int("app", vpx.App, "vApps per cluster (vpx)")
	pod := fs.Int("pod", vpx.Pod, "storage pods per datacenter (vpx)")
	autostart := fs.Bool("autostart", true, "power on the model's VMs")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "listen address")
	fs.BoolVar(&o.useTLS, "tls", true, "serve HTTPS with a self-signed certificate")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "certificate file to load, or to create with -tls-key")
	fs.StringVar(&o.tlsKey, "tls-key", "", "private key file to load, or to create with -tls-cert")
	fs.StringVar(&o.certOut, "cert-out", "", "write the served certificate (PEM) to this file")
	fs.StringVar(&o.username, "username", "user", "accepted login user name")
	fs.StringVar(&o.password, "password", "pass", "accepted login password")
	fs.BoolVar(&o.exitOnStdinEOF, "exit-on-stdin-eof", false, "exit when stdin reaches EOF")
	fs.BoolVar(&o.dieWithParent, "die-with-parent", false, "get SIGKILL when the parent process dies (Linux)")
	fs.BoolVar(&o.trace, "trace", false, "trace SOAP traffic to stderr")
	ext := registerExtensionFlags(fs)
	flag.Parse()
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}

	if o.dieWithParent {
		ppid := os.Getppid()
		if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0); errno != 0 {
			return fmt.Errorf("-die-with-parent: prctl: %v", errno)
		}
		if os.Getppid() != ppid { // the parent died before prctl took effect
			return fmt.Errorf("-die-with-parent: parent already gone")
		}
	}

	var model *simulator.Model
	switch o.mode {
	case "vpx":
		model = vpx
		model.Datacenter = *dc
		model.Cluster = *cluster
		model.ClusterHost = *host
		model.Host = *standalone
		model.Pool = *pool
		model.Folder = *folder
		model.Portgroup = *pg
		model.App = *app
		model.Pod = *pod
	case "esx":
		model = simulator.ESX()
	default:
		return fmt.Errorf("-mode: expected vpx or esx, got %q", o.mode)
	}
	model.Machine = *vm
	model.Datastore = *ds
	model.Autostart = *autostart

	if o.trace {
		simulator.Trace = true
		simulator.TraceFile = os.Stderr
	}

	if err := ext.beforeCreate(model); err != nil {
		return err
	}
	if err := model.Create(); err != nil {
		return fmt.Errorf("creating the model: %w", err)
	}
	defer model.Remove()
	if err := ext.afterCreate(model); err != nil {
		return err
	}

	listen := &url.URL{Host: o.listen, User: url.UserPassword(o.username, o.password)}
	model.Service.Listen = listen
	var der []byte
	if o.useTLS {
		cert, err := serverCert(o.tlsCert, o.tlsKey, ext.hostName())
		if err != nil {
			return fmt.Errorf("TLS certificate: %w", err)
		}
		der = cert.Certificate[0]
		model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	}

	// Catch signals before announcing readiness: the harness may stop us right after the ready line.
	done := make(chan string, 2)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)

	server := model.Service.NewServer()
	// Nobody knows the port before the ready line, so no request races this swap.
	server.Config.Handler = wrapFolder(wrapSDK(server.Config.Handler))
	if err := ext.afterServe(model, server); err != nil {
		server.Close()
		return err
	}

	line := readyLine{URL: withoutUser(server.URL), Mode: o.mode, Pid: os.Getpid(), Control: ext.controlPath()}
	if der != nil {
		line.ThumbprintSHA256, line.ThumbprintSHA1 = thumbprints(der)
		line.CertPEM = certPEM(der)
		if o.certOut != "" {
			if err := ioutil.WriteFile(o.certOut, []byte(line.CertPEM), 0644); err != nil {
				server.Close()
				return fmt.Errorf("-cert-out: %w", err)
			}
		}
	}
	out, _ := json.Marshal(line)
	fmt.Println(string(out))

	go func() { done <- (<-sigs).String() }()
	if o.exitOnStdinEOF {
		go func() {
			_, _ = io.Copy(ioutil.Discard, os.Stdin)
			done <- "stdin EOF"
		}()
	}
	reason := <-done
	log.Printf("shutting down: %s", reason)
	ext.shutdown()
	server.Close()
	return nil
}

func withoutUser(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}
