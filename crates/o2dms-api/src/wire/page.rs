//! Pages of a list.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use o2dms_core::Error;

/// One page of results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    /// The items, in the adapter's stable order.
    pub items: Vec<T>,
    /// Pass this back as the `continue` query parameter for the next page; absent on
    /// the last page.
    #[serde(rename = "continue", default, skip_serializing_if = "Option::is_none")]
    pub continue_token: Option<String>,
    /// How many items match the filter across all pages, when known; never the size of
    /// this page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

impl<C, W: From<C>> From<o2dms_core::Page<C>> for Page<W> {
    fn from(p: o2dms_core::Page<C>) -> Self {
        Page {
            items: p.items.into_iter().map(W::from).collect(),
            continue_token: p.continue_token,
            total: p.total,
        }
    }
}

impl<W> Page<W> {
    /// The core page; an item that does not convert fails naming `items[i].<field>`.
    pub fn into_core<C>(self) -> Result<o2dms_core::Page<C>, Error>
    where
        C: TryFrom<W, Error = Error>,
    {
        let items = self
            .items
            .into_iter()
            .enumerate()
            .map(|(i, w)| C::try_from(w).map_err(|e| super::at(&format!("items[{i}]"), e)))
            .collect::<Result<_, _>>()?;
        Ok(o2dms_core::Page {
            items,
            continue_token: self.continue_token,
            total: self.total,
        })
    }
}
