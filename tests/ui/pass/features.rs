use mcp_runtime::prelude::*;

/// A lookup failure that knows when a row is missing.
#[derive(Debug)]
enum DbError {
    Missing,
    Down,
}

impl From<DbError> for ResourceError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Missing => ResourceError::NotFound,
            DbError::Down => ResourceError::internal("database down"),
        }
    }
}

impl From<DbError> for PromptError {
    fn from(_: DbError) -> Self {
        PromptError::invalid_argument("no such customer")
    }
}

struct Shop {
    logo: Vec<u8>,
}

#[mcp_server(name = "shop", oauth(scopes = ["shop:read"]))]
impl Shop {
    /// The opening hours.
    #[resource(uri = "shop://hours", mime_type = "text/plain")]
    fn hours(&self) -> String {
        "9 to 5".into()
    }

    #[resource(
        uri = "shop://logo.png",
        name = "logo",
        title = "Logo",
        description = "The shop's logo",
        mime_type = "image/png"
    )]
    async fn logo_png(&self, ctx: RequestContext) -> Blob {
        let _ = ctx.protocol_version();
        Blob(self.logo.clone())
    }

    /// Both halves of the catalogue.
    #[resource(uri = "shop://catalogue")]
    fn catalogue(&self, caller: Auth) -> Vec<ResourceContents> {
        vec![
            ResourceContents::text("shop://catalogue/a", caller.subject()),
            ResourceContents::blob("shop://catalogue/b", [1, 2, 3])
                .with_mime_type("application/octet-stream"),
        ]
    }

    /// One order of one customer.
    #[resource(
        uri_template = "shop://customers/{customer}/orders/{order}",
        mime_type = "application/json"
    )]
    fn order(&self, order: String, customer: String) -> Result<String, DbError> {
        if order.is_empty() {
            return Err(DbError::Down);
        }
        if customer == "nobody" {
            return Err(DbError::Missing);
        }
        Ok(format!("{{\"customer\":\"{customer}\",\"order\":\"{order}\"}}"))
    }

    /// A file of the shop's site.
    #[resource(uri_template = "shop://site/{name}.{ext}")]
    async fn site(&self, name: String, ext: String) -> Result<ResourceContents, std::io::Error> {
        let text = std::fs::read_to_string(format!("{name}.{ext}"))?;
        Ok(ResourceContents::text(format!("shop://site/{name}.{ext}"), text))
    }

    /// A product.
    #[resource(uri_template = "shop://products/{sku}", icon = "https://example.com/product.ico")]
    fn product(&self, sku: String) -> Result<String, ResourceError> {
        Err(if sku.is_empty() {
            ResourceError::NotFound
        } else {
            ResourceError::internal("not stocked")
        })
    }

    /// Greets a customer.
    #[prompt]
    fn greet(&self) -> String {
        "Greet the customer.".into()
    }

    #[prompt(
        name = "recommend",
        title = "Recommend",
        description = "Recommends a product",
        icon(src = "https://example.com/recommend.webp", mime_type = "image/webp")
    )]
    async fn recommend_product(
        &self,
        ctx: RequestContext,
        #[arg(description = "The customer's id")] customer: String,
        budget: Option<String>,
    ) -> Result<Vec<PromptMessage>, DbError> {
        let _ = ctx.is_cancelled();
        if customer.is_empty() {
            return Err(DbError::Missing);
        }
        Ok(vec![
            PromptMessage::user(format!("Recommend something to {customer}")),
            PromptMessage::assistant(format!("Within {budget:?}?")),
        ])
    }

    /// Shows the logo.
    #[prompt]
    fn show_logo(&self, caller: Auth) -> PromptMessage {
        let _ = caller.subject();
        PromptMessage::user(Content::image(&self.logo, "image/png"))
    }

    /// A whole result.
    #[prompt]
    fn whole(&self, topic: Option<String>) -> Result<GetPromptResult, std::fmt::Error> {
        Ok(GetPromptResult::new(vec![PromptMessage::user(topic.unwrap_or_default())])
            .with_description("about a topic"))
    }

    #[completion(prompt = "recommend", argument = "customer")]
    fn customers(&self, value: String) -> Vec<String> {
        vec![value]
    }

    #[completion(prompt = "recommend", argument = "budget")]
    async fn budgets(
        &self,
        value: String,
        context: CompletionContext,
        ctx: RequestContext,
    ) -> Result<Completion, std::io::Error> {
        let _ = (context.argument("customer"), ctx.request_id());
        Ok(Completion::new(vec![value]).with_total(10))
    }

    #[completion(resource = "shop://customers/{customer}/orders/{order}", argument = "order")]
    fn orders(&self, caller: Auth, value: String, context: CompletionContext) -> Vec<String> {
        let _ = caller.subject();
        vec![format!("{value}{}", context.argument("customer").unwrap_or_default())]
    }

    /// A tool beside the rest.
    #[tool]
    fn restock(&self, sku: String) -> String {
        sku
    }
}

fn main() {
    let _ = Shop { logo: Vec::new() }.logo;
}
