package telemetry

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
)

// Tracing is OpenTelemetry tracing, on only when an OTLP endpoint is
// configured: HTTP requests, workflow starts, workflows and activities
// share one trace.
type Tracing struct {
	Interceptors []interceptor.ClientInterceptor
	Shutdown     func(context.Context) error
	Enabled      bool
}

// SetupTracing exports spans over OTLP/HTTP to endpoint (a URL such as
// http://collector:4318); with an empty endpoint it returns a disabled
// Tracing that costs nothing.
func SetupTracing(ctx context.Context, endpoint, serviceName string) (Tracing, error) {
	off := Tracing{Shutdown: func(context.Context) error { return nil }}
	if endpoint == "" {
		return off, nil
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint+"/v1/traces"))
	if err != nil {
		return off, fmt.Errorf("tracing: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", serviceName)))
	if err != nil {
		return off, fmt.Errorf("tracing: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	ti, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{Tracer: tp.Tracer("orgaccounts/temporal")})
	if err != nil {
		return off, fmt.Errorf("tracing: %w", err)
	}
	return Tracing{Interceptors: []interceptor.ClientInterceptor{ti}, Shutdown: tp.Shutdown, Enabled: true}, nil
}
