//! The service catalogue (事项清单), shipped as data in the crate (`data/catalogue.json`).

use std::sync::OnceLock;

use serde::Deserialize;

use super::codes::code_enum;
use crate::error::{CoreError, Result};

code_enum! {
    /// The tier whose staff can finish an item.
    pub enum ItemTier {
        /// Finished in the village by the agent (for example pension certification by app).
        Village => ("village", "村级可办结"),
        /// Finished at the town service centre.
        Town => ("town", "镇级办结"),
        /// Finished by the district.
        District => ("district", "区级办结"),
    }
}

code_enum! {
    /// How a job is done for the resident.
    pub enum ServiceMode {
        /// 帮办: the resident does it, with help.
        Help => ("help", "帮办"),
        /// 代办: the agent does it for them.
        Proxy => ("proxy", "代办"),
        /// 陪办: the agent goes with them.
        Accompany => ("accompany", "陪办"),
        /// 上门办: done at home.
        AtHome => ("at_home", "上门办"),
        /// 远程办: by phone or video, for migrant workers away from home.
        Remote => ("remote", "远程办"),
    }
}

/// A material an item requires.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Material {
    /// Its name, for example 居民身份证.
    pub name: String,
    /// A key material (要件) cannot be missing at acceptance; others may be supplied later (容缺).
    pub key: bool,
}

/// One item of the service catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ServiceItem {
    /// Stable code, for example `pension-certification`.
    pub code: String,
    /// Chinese name, for example 养老认证.
    pub name: String,
    /// The name's pinyin initials, for searching on a phone keyboard, for example `ylrz`.
    pub initials: String,
    /// Area, for example 社保 or 民政.
    pub category: String,
    /// The law or regulation it rests on.
    pub policy_basis: String,
    /// Required materials.
    pub materials: Vec<Material>,
    /// Promised time limit (承诺时限) in calendar days from acceptance.
    pub time_limit_days: u32,
    /// The tier that can finish it.
    pub tier: ItemTier,
    /// The modes it allows.
    pub modes: Vec<ServiceMode>,
}

impl ServiceItem {
    /// Checks that the item allows `mode`.
    pub fn check_mode(&self, mode: ServiceMode) -> Result<()> {
        if self.modes.contains(&mode) {
            return Ok(());
        }
        Err(CoreError::ModeNotAllowed {
            item: self.name.clone(),
            mode: mode.label().to_string(),
            allowed: self
                .modes
                .iter()
                .map(|m| m.label())
                .collect::<Vec<_>>()
                .join("、"),
        })
    }

    /// Checks the materials missing at acceptance: each must be a non-key material of the item.
    pub fn check_missing_materials(&self, missing: &[String]) -> Result<()> {
        for name in missing {
            match self.materials.iter().find(|m| &m.name == name) {
                Some(m) if m.key => {
                    return Err(CoreError::KeyMaterialMissing {
                        material: name.clone(),
                    });
                }
                Some(_) => {}
                None => {
                    return Err(CoreError::InvalidValue {
                        field: "容缺材料".into(),
                        reason: format!("“{}”不是事项“{}”所需的材料", name, self.name),
                    });
                }
            }
        }
        Ok(())
    }
}

/// All items of the shipped catalogue, parsed once.
pub fn catalogue() -> &'static [ServiceItem] {
    static ITEMS: OnceLock<Vec<ServiceItem>> = OnceLock::new();
    ITEMS.get_or_init(|| {
        serde_json::from_str(include_str!("../../data/catalogue.json"))
            .expect("the shipped catalogue is valid JSON (checked by a unit test)")
    })
}

/// The item with `code`, or [`CoreError::UnknownItem`].
pub fn item(code: &str) -> Result<&'static ServiceItem> {
    catalogue()
        .iter()
        .find(|i| i.code == code)
        .ok_or_else(|| CoreError::UnknownItem {
            code: code.to_string(),
        })
}

/// The items whose name holds `query`, or whose pinyin initials (`ylrz` for 养老认证) start
/// with it or hold it, best matches first: names that start with it, then names that hold it,
/// then initials that start with it, then initials that hold it; catalogue order within each.
/// An empty query gives the whole catalogue.
pub fn search(query: &str) -> Vec<ServiceItem> {
    let query = query.trim().to_lowercase();
    let rank = |item: &ServiceItem| {
        if item.name.starts_with(&query) {
            Some(0)
        } else if item.name.contains(&query) {
            Some(1)
        } else if item.initials.starts_with(&query) {
            Some(2)
        } else if item.initials.contains(&query) {
            Some(3)
        } else {
            None
        }
    };
    let mut found: Vec<(u8, &ServiceItem)> = catalogue()
        .iter()
        .filter_map(|item| rank(item).map(|r| (r, item)))
        .collect();
    found.sort_by_key(|(r, _)| *r);
    found.into_iter().map(|(_, item)| item.clone()).collect()
}

/// The name of the item with `code`, or the code itself when the catalogue lacks it (a job
/// written by a newer app).
pub fn item_name(code: &str) -> String {
    item(code).map_or_else(|_| code.to_string(), |i| i.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_catalogue_is_complete_and_consistent() {
        let items = catalogue();
        assert!(items.len() >= 20, "catalogue has {} items", items.len());
        let mut codes: Vec<_> = items.iter().map(|i| i.code.as_str()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), items.len(), "codes are unique");
        for i in items {
            assert!(
                i.materials.iter().any(|m| m.key),
                "{} has a key material",
                i.code
            );
            assert!(i.time_limit_days >= 1, "{} has a time limit", i.code);
            assert!(!i.modes.is_empty(), "{} allows a mode", i.code);
        }
        for name in [
            "养老认证",
            "社保卡申领",
            "社保卡激活",
            "低保申请",
            "残疾人辅具申领",
        ] {
            assert!(
                items.iter().any(|i| i.name == name),
                "{name} is in the catalogue"
            );
        }
    }

    #[test]
    fn initials_are_the_names_pinyin_initials() {
        use pinyin::ToPinyin;
        for item in catalogue() {
            let initials: String = item
                .name
                .as_str()
                .to_pinyin()
                .flatten()
                .map(|p| p.first_letter())
                .collect();
            assert_eq!(item.initials, initials, "{}", item.name);
        }
    }

    #[test]
    fn search_by_name_or_initials() {
        let names = |q: &str| search(q).into_iter().map(|i| i.name).collect::<Vec<_>>();
        assert_eq!(names("ylrz"), ["养老认证"]);
        assert_eq!(names("YLRZ"), ["养老认证"]);
        assert_eq!(
            names("社保卡")[..3],
            ["社保卡申领", "社保卡激活", "社保卡挂失补换"]
        );
        let pension = names("养老");
        assert_eq!(
            pension[0], "养老认证",
            "a name that starts with it comes first"
        );
        assert!(pension.contains(&"城乡居民养老保险参保登记".to_string()));
        assert_eq!(names("cjr").len(), 3, "残疾人 items by initials");
        assert_eq!(search("").len(), catalogue().len());
        assert!(search("没有这个事项").is_empty());
    }

    #[test]
    fn unknown_item_and_mode_errors() {
        assert_eq!(
            item("no-such-item"),
            Err(CoreError::UnknownItem {
                code: "no-such-item".into()
            })
        );
        let renewal = item("id-card-renewal").unwrap();
        let err = renewal.check_mode(ServiceMode::Proxy).unwrap_err();
        assert!(err.to_string().contains("不支持“代办”"));
    }

    #[test]
    fn only_non_key_materials_may_be_missing() {
        let card = item("social-security-card-application").unwrap();
        let key = card.materials.iter().find(|m| m.key).unwrap().name.clone();
        let non_key = card.materials.iter().find(|m| !m.key).unwrap().name.clone();
        assert!(card.check_missing_materials(&[non_key]).is_ok());
        assert!(matches!(
            card.check_missing_materials(&[key]),
            Err(CoreError::KeyMaterialMissing { .. })
        ));
        assert!(matches!(
            card.check_missing_materials(&["结婚证".into()]),
            Err(CoreError::InvalidValue { .. })
        ));
    }
}
