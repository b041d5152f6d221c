//! A small macro for the domain's closed sets of values (roles, tags, states, ...): each variant
//! has a stable ASCII code, used in documents and tables, and a Chinese label for people.

/// Declares a fieldless enum with `code()`, `label()`, `from_code()` and `ALL`.
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => ($code:literal, $label:literal) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable ASCII code stored in documents and tables.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The Chinese label shown to people.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// The value for a stored code, if it is one.
            pub fn from_code(code: &str) -> Option<$name> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        #[cfg(feature = "uniffi")]
        #[uniffi::export]
        impl $name {
            /// The Chinese label shown to people (`label()` in Kotlin and Swift).
            #[uniffi::method(name = "label")]
            pub fn label_text(&self) -> String {
                self.label().to_string()
            }

            /// The stable ASCII code (`code()` in Kotlin and Swift).
            #[uniffi::method(name = "code")]
            pub fn code_text(&self) -> String {
                self.code().to_string()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let code = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::from_code(&code).ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown {} code: {code}", stringify!($name)))
                })
            }
        }
    };
}

pub(crate) use code_enum;
