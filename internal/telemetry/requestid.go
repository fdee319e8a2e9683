package telemetry

import (
	"context"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"
)

type requestIDKey struct{}

// RequestIDHeader is the Temporal header that carries the request id from
// the API into the workflows it starts and their activities.
const RequestIDHeader = "orgaccounts-request-id"

// WithRequestID returns ctx carrying the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// WorkflowRequestID returns the request id a workflow context carries.
func WorkflowRequestID(ctx workflow.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// RequestIDPropagator moves the request id through Temporal headers: from
// the API's context into the workflow, and from the workflow into every
// activity it schedules.
type RequestIDPropagator struct{}

var _ workflow.ContextPropagator = RequestIDPropagator{}

func inject(id string, hw workflow.HeaderWriter) error {
	if id == "" {
		return nil
	}
	p, err := converter.GetDefaultDataConverter().ToPayload(id)
	if err != nil {
		return err
	}
	hw.Set(RequestIDHeader, p)
	return nil
}

func extract(hr workflow.HeaderReader) (string, error) {
	p, ok := hr.Get(RequestIDHeader)
	if !ok {
		return "", nil
	}
	var id string
	err := converter.GetDefaultDataConverter().FromPayload(p, &id)
	return id, err
}

// Inject implements workflow.ContextPropagator.
func (RequestIDPropagator) Inject(ctx context.Context, hw workflow.HeaderWriter) error {
	return inject(RequestID(ctx), hw)
}

// Extract implements workflow.ContextPropagator.
func (RequestIDPropagator) Extract(ctx context.Context, hr workflow.HeaderReader) (context.Context, error) {
	id, err := extract(hr)
	if err != nil || id == "" {
		return ctx, err
	}
	return WithRequestID(ctx, id), nil
}

// InjectFromWorkflow implements workflow.ContextPropagator.
func (RequestIDPropagator) InjectFromWorkflow(ctx workflow.Context, hw workflow.HeaderWriter) error {
	return inject(WorkflowRequestID(ctx), hw)
}

// ExtractToWorkflow implements workflow.ContextPropagator.
func (RequestIDPropagator) ExtractToWorkflow(ctx workflow.Context, hr workflow.HeaderReader) (workflow.Context, error) {
	id, err := extract(hr)
	if err != nil || id == "" {
		return ctx, err
	}
	return workflow.WithValue(ctx, requestIDKey{}, id), nil
}
