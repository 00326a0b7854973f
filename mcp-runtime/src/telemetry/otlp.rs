//! Export of the request spans and metrics to an OpenTelemetry collector over OTLP/HTTP
//! (feature `otlp`).
//!
//! ```no_run
//! use mcp_runtime::telemetry::otlp::Otlp;
//! use tracing_subscriber::prelude::*;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The collector of OTEL_EXPORTER_OTLP_ENDPOINT (http://localhost:4318 without it).
//! let otlp = Otlp::builder("weather").build()?;
//! tracing_subscriber::registry()
//!     .with(tracing_subscriber::fmt::layer())
//!     .with(otlp.layer())
//!     .init();
//! // … serve; then, before the process exits:
//! otlp.shutdown()?;
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{MetricExporter, SpanExporter, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;

/// Why the exporters could not be built or flushed.
#[derive(Debug, thiserror::Error)]
pub enum OtlpError {
    /// An exporter could not be built (for instance, an endpoint that is not a URL).
    #[error("OTLP exporter: {0}")]
    Build(String),
    /// What was recorded could not all be sent.
    #[error("OTLP export: {0}")]
    Export(String),
}

/// Builds an [`Otlp`]: see [`Otlp::builder`].
#[derive(Debug, Clone)]
pub struct OtlpBuilder {
    service: String,
    endpoint: Option<String>,
    metrics_every: Duration,
}

impl OtlpBuilder {
    /// The collector's base URL (`http://127.0.0.1:4318`): spans go to `/v1/traces`,
    /// metrics to `/v1/metrics`. Without it, the `OTEL_EXPORTER_OTLP_*` variables decide.
    #[must_use]
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// How often metrics are exported (60 s by default).
    #[must_use]
    pub fn metrics_every(mut self, every: Duration) -> Self {
        self.metrics_every = every;
        self
    }

    /// Builds the exporters, installs the meter provider and the W3C trace context
    /// propagator globally, and returns what gives the `tracing` layer.
    ///
    /// # Errors
    ///
    /// [`OtlpError::Build`] when an exporter cannot be built.
    pub fn build(self) -> Result<Otlp, OtlpError> {
        let resource = Resource::builder()
            .with_attributes([KeyValue::new("service.name", self.service)])
            .build();
        let mut spans = SpanExporter::builder().with_http();
        let mut metrics = MetricExporter::builder().with_http();
        if let Some(endpoint) = &self.endpoint {
            spans = spans.with_endpoint(format!("{endpoint}/v1/traces"));
            metrics = metrics.with_endpoint(format!("{endpoint}/v1/metrics"));
        }
        let spans = spans.build().map_err(|e| OtlpError::Build(e.to_string()))?;
        let metrics = metrics
            .build()
            .map_err(|e| OtlpError::Build(e.to_string()))?;
        let tracer_provider = SdkTracerProvider::builder()
            .with_resource(resource.clone())
            .with_batch_exporter(spans)
            .build();
        let reader = PeriodicReader::builder(metrics)
            .with_interval(self.metrics_every)
            .build();
        let meter_provider = SdkMeterProvider::builder()
            .with_resource(resource)
            .with_reader(reader)
            .build();
        opentelemetry::global::set_meter_provider(meter_provider.clone());
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        Ok(Otlp {
            tracer_provider,
            meter_provider,
        })
    }
}

/// Span and metric exporters to an OpenTelemetry collector.
#[derive(Debug)]
pub struct Otlp {
    tracer_provider: SdkTracerProvider,
    meter_provider: SdkMeterProvider,
}

impl Otlp {
    /// Exporters for the service called `service` (its `service.name`).
    pub fn builder(service: impl Into<String>) -> OtlpBuilder {
        OtlpBuilder {
            service: service.into(),
            endpoint: None,
            metrics_every: Duration::from_mins(1),
        }
    }

    /// The `tracing` layer that turns spans into exported OpenTelemetry spans.
    pub fn layer<S>(&self) -> impl tracing_subscriber::Layer<S> + use<S>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        tracing_opentelemetry::layer().with_tracer(self.tracer_provider.tracer("mcp-runtime"))
    }

    /// Sends what is recorded and not yet sent, spans and metrics.
    ///
    /// # Errors
    ///
    /// [`OtlpError::Export`] when the collector did not take it.
    pub fn flush(&self) -> Result<(), OtlpError> {
        let export = |e: opentelemetry_sdk::error::OTelSdkError| OtlpError::Export(e.to_string());
        self.tracer_provider.force_flush().map_err(export)?;
        self.meter_provider.force_flush().map_err(export)
    }

    /// Flushes, then stops the exporters.
    ///
    /// # Errors
    ///
    /// [`OtlpError::Export`] when the last export failed.
    pub fn shutdown(self) -> Result<(), OtlpError> {
        let export = |e: opentelemetry_sdk::error::OTelSdkError| OtlpError::Export(e.to_string());
        // Both are shut down whatever the first says; its error is the one reported.
        let traces = self.tracer_provider.shutdown().map_err(export);
        let metrics = self.meter_provider.shutdown().map_err(export);
        traces.and(metrics)
    }
}
