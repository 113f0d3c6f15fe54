package main

// Injected events: EventEx records such as ESXi's vobd/hostd post
// (esx.problem.vmfs.resource.corruptondisk, esx.problem.storage.apd.start, …).
//
// Flags:
//
//	-events JSON   events to post at startup: [{"host":"DC0_C0_H0","eventTypeId":"esx.problem…",
//	               "message":"…","severity":"error|warning|info|user"}]; "host" "" = the first (esx: only) host;
//	               "vm":"NAME" attaches a VM argument instead of / besides the host.
//
// At runtime: control command {"cmd":"event", …same fields…} (control.go).
//
// Filtering by eventTypeId works as in vCenter for QueryEvents (eventquery.go) and for
// event history collectors (collectorfix.go); esx mode: QueryEvents is NotImplemented
// (as stock), use CreateCollectorForEvents.

import (
	"flag"
	"fmt"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

type eventSpec struct {
	Host        *string `json:"host,omitempty"`
	VM          string  `json:"vm,omitempty"`
	EventTypeId string  `json:"eventTypeId"`
	Message     string  `json:"message,omitempty"`
	Severity    string  `json:"severity,omitempty"`
}

type eventsExtension struct {
	events []eventSpec
}

func init() { register(30, &eventsExtension{}) }

func (e *eventsExtension) flags(fs *flag.FlagSet) {
	fs.Var(&jsonFlag{v: &e.events}, "events", "events to post at startup (JSON list)")
}

func (e *eventsExtension) beforeCreate(*simulator.Model) error { return nil }

func (e *eventsExtension) afterCreate(*simulator.Model) error {
	for i, spec := range e.events {
		if err := postEventSpec(spec); err != nil {
			return fmt.Errorf("-events[%d]: %w", i, err)
		}
	}
	return nil
}

func (e *eventsExtension) afterServe(*simulator.Model, *simulator.Server) error { return nil }
func (e *eventsExtension) shutdown()                                            {}

func postEventSpec(spec eventSpec) error {
	if spec.EventTypeId == "" {
		return fmt.Errorf("eventTypeId is required")
	}
	var ev *types.EventEx
	if spec.Host != nil || spec.VM == "" {
		name := ""
		if spec.Host != nil {
			name = *spec.Host
		}
		h := findHost(name)
		if h == nil {
			return fmt.Errorf("no host named %q", name)
		}
		ev = hostEventEx(h, spec.EventTypeId, spec.Message, spec.Severity)
	} else {
		ev = &types.EventEx{EventTypeId: spec.EventTypeId, Severity: spec.Severity, Message: spec.Message}
		if ev.Severity == "" {
			ev.Severity = string(types.EventEventSeverityWarning)
		}
		ev.FullFormattedMessage = spec.Message
	}
	if spec.VM != "" {
		vm := findVM(spec.VM)
		if vm == nil {
			return fmt.Errorf("no VM named %q", spec.VM)
		}
		ev.Vm = &types.VmEventArgument{EntityEventArgument: types.EntityEventArgument{Name: vm.Name}, Vm: vm.Self}
		ev.ObjectId, ev.ObjectType, ev.ObjectName = vm.Self.Value, "VirtualMachine", vm.Name
	}
	postEvents(ev)
	return nil
}

// postEvents posts through the EventManager, under its lock, as the simulator's own code does.
func postEvents(events ...types.BaseEvent) {
	m := simulator.Map.EventManager()
	ctx := internalContext()
	simulator.Map.WithLock(m, func() {
		for _, ev := range events {
			m.PostEvent(ctx, &types.PostEvent{EventToPost: ev})
			pushToCollectors(ev)
		}
	})
}
