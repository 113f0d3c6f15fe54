// Redfish error bodies (DSP0266 "Error responses"): {"error":{code, message,
// @Message.ExtendedInfo:[Message…]}} with MessageIds from the DMTF Base registry, so that
// clients (sushy parses `error.@Message.ExtendedInfo`) can read what went wrong.
import { RedfishRequestError } from "../errors.ts";

export const BASE_REGISTRY = "Base.1.8";

/** Severity and resolution of the Base messages esxkit sends. */
const MESSAGES: Record<string, { severity: "OK" | "Warning" | "Critical"; resolution: string }> = {
  InternalError: { severity: "Critical", resolution: "Resubmit the request. If the problem persists, consider resetting the service." },
  GeneralError: { severity: "Critical", resolution: "None." },
  Success: { severity: "OK", resolution: "None." },
  MalformedJSON: { severity: "Critical", resolution: "Ensure that the request body is valid JSON and resubmit the request." },
  PropertyUnknown: { severity: "Warning", resolution: "Remove the unknown property from the request body and resubmit the request if the operation failed." },
  PropertyValueNotInList: { severity: "Warning", resolution: "Choose a value from the enumeration list that the implementation can support and resubmit the request if the operation failed." },
  PropertyValueTypeError: { severity: "Warning", resolution: "Correct the value for the property in the request body and resubmit the request if the operation failed." },
  PropertyValueFormatError: { severity: "Warning", resolution: "Correct the value for the property in the request body and resubmit the request if the operation failed." },
  PropertyMissing: { severity: "Warning", resolution: "Ensure that the property is in the request body and has a valid value and resubmit the request if the operation failed." },
  ActionParameterMissing: { severity: "Critical", resolution: "Supply the action with the required parameter in the request body when the request is resubmitted." },
  ActionParameterUnknown: { severity: "Warning", resolution: "Correct the invalid action parameter and resubmit the request if the operation failed." },
  ActionParameterValueNotInList: { severity: "Warning", resolution: "Choose a value from the enumeration list that the implementation can support and resubmit the request if the operation failed." },
  ActionParameterValueTypeError: { severity: "Warning", resolution: "Correct the value for the parameter in the request body and resubmit the request if the operation failed." },
  ActionParameterValueFormatError: { severity: "Warning", resolution: "Correct the value for the parameter in the request body and resubmit the request if the operation failed." },
  ActionNotSupported: { severity: "Critical", resolution: "The action supplied cannot be resubmitted to the implementation. Perhaps the action was invalid, the wrong resource was the target or the implementation documentation may be of assistance." },
  ResourceNotFound: { severity: "Critical", resolution: "Provide a valid resource identifier and resubmit the request." },
  ResourceInUse: { severity: "Warning", resolution: "Remove the condition and resubmit the request if the operation failed." },
  ResourceInStandby: { severity: "Critical", resolution: "Ensure that the resource is in the correct power state and resubmit the request." },
  OperationNotAllowed: { severity: "Critical", resolution: "Change the resource state and resubmit the request." },
  OperationFailed: { severity: "Warning", resolution: "Resubmit the request. If the problem persists, consider resetting the service or provider." },
  ServiceTemporarilyUnavailable: { severity: "Critical", resolution: "Wait for the indicated retry duration and retry the operation." },
  ServiceInUnknownState: { severity: "Critical", resolution: "Restart the service and resubmit the request if the operation failed." },
  InsufficientPrivilege: { severity: "Critical", resolution: "Either abandon the operation or change the associated access rights and resubmit the request if the operation failed." },
  NoValidSession: { severity: "Critical", resolution: "Establish a session before attempting any operations." },
  AccessDenied: { severity: "Critical", resolution: "Attempt to ensure that the URI is correct and that the service has the appropriate credentials." },
  PreconditionFailed: { severity: "Critical", resolution: "Try the operation again using the appropriate ETag." },
  PayloadTooLarge: { severity: "Critical", resolution: "Resubmit the request with a smaller payload." },
  UnsupportedMediaType: { severity: "Critical", resolution: "Resubmit the request with a supported media type." },
  SessionLimitExceeded: { severity: "Critical", resolution: "Reduce the number of other sessions before trying to establish the session or increase the limit of simultaneous sessions, if supported." },
  CouldNotEstablishConnection: { severity: "Critical", resolution: "Ensure that the URI contains a valid and reachable node name, protocol information and other URI components." },
  ResourceAtUriUnauthorized: { severity: "Critical", resolution: "Ensure that the appropriate access is provided for the service in order for it to access the URI." },
  MethodNotAllowed: { severity: "Critical", resolution: "None." },
  QueryNotSupported: { severity: "Warning", resolution: "Remove the query parameters and resubmit the request if the operation failed." },
};

export interface MessageObject {
  "@odata.type": string;
  MessageId: string;
  Message: string;
  MessageArgs: string[];
  Severity: string;
  MessageSeverity: string;
  Resolution: string;
  RelatedProperties?: string[];
}

export function message(id: string, text: string, args: string[] = [], property?: string): MessageObject {
  const m = MESSAGES[id] ?? MESSAGES.GeneralError!;
  return {
    "@odata.type": "#Message.v1_1_1.Message",
    MessageId: `${BASE_REGISTRY}.${id}`,
    Message: text,
    MessageArgs: args,
    Severity: m.severity,
    MessageSeverity: m.severity,
    Resolution: m.resolution,
    ...(property ? { RelatedProperties: [`#/${property.replace(/\./g, "/")}`] } : {}),
  };
}

export function errorBody(err: RedfishRequestError): Record<string, unknown> {
  return {
    error: {
      code: `${BASE_REGISTRY}.${err.messageId}`,
      message: err.message,
      "@Message.ExtendedInfo": [message(err.messageId, err.message, err.extra.args, err.extra.property)],
    },
  };
}

/** Shorthands for the errors request handlers raise. */
export const fail = {
  malformed: (why: string) => new RedfishRequestError(400, "MalformedJSON", `The request body submitted was malformed JSON and could not be parsed: ${why}`),
  unknownProperty: (p: string) => new RedfishRequestError(400, "PropertyUnknown", `The property ${p} is not in the list of valid properties for the resource.`, { args: [p], property: p }),
  notInList: (p: string, v: unknown, allowed: readonly string[]) =>
    new RedfishRequestError(400, "PropertyValueNotInList", `The value ${JSON.stringify(v)} for the property ${p} is not in the list of acceptable values (${allowed.join(", ")}).`, { args: [String(v), p], property: p }),
  typeError: (p: string, v: unknown, want: string) =>
    new RedfishRequestError(400, "PropertyValueTypeError", `The value ${JSON.stringify(v)} for the property ${p} is not a type that the property can accept (expected ${want}).`, { args: [JSON.stringify(v) ?? "", p], property: p }),
  paramMissing: (action: string, p: string) => new RedfishRequestError(400, "ActionParameterMissing", `The action ${action} requires the parameter ${p} to be present in the request body.`, { args: [action, p], property: p }),
  paramUnknown: (action: string, p: string) => new RedfishRequestError(400, "ActionParameterUnknown", `The action ${action} was submitted with the invalid parameter ${p}.`, { args: [action, p], property: p }),
  paramNotInList: (action: string, p: string, v: unknown, allowed: readonly string[]) =>
    new RedfishRequestError(400, "ActionParameterValueNotInList", `The value ${JSON.stringify(v)} for the parameter ${p} in the action ${action} is not in the list of acceptable values (${allowed.join(", ")}).`, { args: [String(v), p, action], property: p }),
  paramType: (action: string, p: string, v: unknown, want: string) =>
    new RedfishRequestError(400, "ActionParameterValueTypeError", `The value ${JSON.stringify(v)} for the parameter ${p} in the action ${action} is not a type that the parameter can accept (expected ${want}).`, { args: [JSON.stringify(v) ?? "", p, action], property: p }),
  notFound: (uri: string) => new RedfishRequestError(404, "ResourceNotFound", `The requested resource ${uri} was not found.`, { args: ["Resource", uri] }),
  methodNotAllowed: (method: string, allow: string[]) =>
    new RedfishRequestError(405, "MethodNotAllowed", `The HTTP method ${method} is not allowed on this resource (allowed: ${allow.join(", ")}).`, { headers: { Allow: allow.join(", ") } }),
};
