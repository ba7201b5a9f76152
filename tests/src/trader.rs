//! One registered, logged-in user, with a typed call per Part 1 endpoint.
//!
//! Calls named after an action that must succeed (`create_stock`, `add_stock`, `deposit`) assert
//! the success envelope; calls that may legitimately fail (`place_*`, `cancel`) return the
//! [`Reply`] for the test to judge. Reads return the envelope's `data`.

use crate::checks::{expect_ok, expect_ok_null};
use crate::http::{Api, Auth, Reply};
use crate::names::unique;
use serde_json::{Value, json};

/// The password every test user gets.
pub const PASSWORD: &str = "Secr3t-pass";

/// A logged-in user.
#[derive(Clone, Debug)]
pub struct Trader {
    api: Api,
    /// The unique `user_name` registered.
    pub user_name: String,
    /// The JWT from login.
    pub token: String,
}

/// `POST /authentication/register` with these fields.
pub fn register(api: &Api, user_name: &str, password: &str, name: &str) -> Reply {
    let body = json!({"user_name": user_name, "password": password, "name": name});
    api.post("/authentication/register", Auth::None, &body)
}

/// `POST /authentication/login` with these fields.
pub fn login(api: &Api, user_name: &str, password: &str) -> Reply {
    let body = json!({"user_name": user_name, "password": password});
    api.post("/authentication/login", Auth::None, &body)
}

impl Trader {
    /// Registers `<prefix>_<unique>` and logs in; asserts both succeed.
    pub fn register(api: &Api, prefix: &str) -> Self {
        let user_name = unique(prefix);
        expect_ok_null(&register(api, &user_name, PASSWORD, prefix));
        Self::login(api, &user_name)
    }

    /// Logs an existing user in (password [`PASSWORD`]); asserts success.
    pub fn login(api: &Api, user_name: &str) -> Self {
        let data = expect_ok(&login(api, user_name, PASSWORD));
        let token = data["token"]
            .as_str()
            .unwrap_or_else(|| panic!("login data without a token string: {data}"))
            .to_string();
        Self {
            api: api.clone(),
            user_name: user_name.to_string(),
            token,
        }
    }

    /// The same user and token, talking to another base URL (after a restart).
    pub fn with_api(&self, api: &Api) -> Self {
        Self {
            api: api.clone(),
            ..self.clone()
        }
    }

    /// Authentication by the course's `token` header.
    pub fn auth(&self) -> Auth<'_> {
        Auth::Token(&self.token)
    }

    /// The client this trader uses.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// `GET path` as this user.
    pub fn get(&self, path: &str) -> Reply {
        self.api.get(path, self.auth())
    }

    /// `POST path` as this user.
    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.api.post(path, self.auth(), body)
    }

    /// `POST path` with a raw body as this user.
    pub fn post_raw(&self, path: &str, body: &str) -> Reply {
        self.api.post_raw(path, self.auth(), body.to_string())
    }

    /// Creates a stock; asserts success and returns its id.
    pub fn create_stock(&self, stock_name: &str) -> Value {
        let data = expect_ok(&self.post("/setup/createStock", &json!({"stock_name": stock_name})));
        let object = data
            .as_object()
            .unwrap_or_else(|| panic!("createStock data: {data}"));
        assert_eq!(
            object.len(),
            1,
            "createStock data has exactly stock_id: {data}"
        );
        data["stock_id"].clone()
    }

    /// Adds shares to this user's holdings; asserts success.
    pub fn add_stock(&self, stock_id: &Value, quantity: impl Into<Value>) {
        let body = json!({"stock_id": stock_id, "quantity": quantity.into()});
        expect_ok_null(&self.post("/setup/addStockToUser", &body));
    }

    /// Adds money to the wallet; asserts success.
    pub fn deposit(&self, amount: impl Into<Value>) {
        expect_ok_null(&self.deposit_reply(amount));
    }

    /// `POST /transaction/addMoneyToWallet` without judging the answer.
    pub fn deposit_reply(&self, amount: impl Into<Value>) -> Reply {
        self.post(
            "/transaction/addMoneyToWallet",
            &json!({"amount": amount.into()}),
        )
    }

    /// A course limit sell.
    pub fn place_sell(
        &self,
        stock_id: &Value,
        quantity: impl Into<Value>,
        price: impl Into<Value>,
    ) -> Reply {
        let body = json!({
            "stock_id": stock_id, "is_buy": false, "order_type": "LIMIT",
            "quantity": quantity.into(), "price": price.into(),
        });
        self.post("/engine/placeStockOrder", &body)
    }

    /// A course market buy (`price: null`).
    pub fn place_market_buy(&self, stock_id: &Value, quantity: impl Into<Value>) -> Reply {
        let body = json!({
            "stock_id": stock_id, "is_buy": true, "order_type": "MARKET",
            "quantity": quantity.into(), "price": null,
        });
        self.post("/engine/placeStockOrder", &body)
    }

    /// Cancels by `stock_tx_id`.
    pub fn cancel(&self, stock_tx_id: &Value) -> Reply {
        let body = json!({"stock_tx_id": stock_tx_id});
        self.post("/engine/cancelStockTransaction", &body)
    }

    /// `data.balance` of getWalletBalance.
    pub fn balance(&self) -> Value {
        let data = expect_ok(&self.get("/transaction/getWalletBalance"));
        let object = data
            .as_object()
            .unwrap_or_else(|| panic!("balance data: {data}"));
        assert_eq!(
            object.len(),
            1,
            "getWalletBalance data has exactly balance: {data}"
        );
        data["balance"].clone()
    }

    /// `data` of getStockPortfolio.
    pub fn portfolio(&self) -> Value {
        expect_ok(&self.get("/transaction/getStockPortfolio"))
    }

    /// `data` of getStockPrices.
    pub fn prices(&self) -> Value {
        expect_ok(&self.get("/transaction/getStockPrices"))
    }

    /// `data` of getStockTransactions.
    pub fn stock_transactions(&self) -> Value {
        expect_ok(&self.get("/transaction/getStockTransactions"))
    }

    /// `data` of getWalletTransactions.
    pub fn wallet_transactions(&self) -> Value {
        expect_ok(&self.get("/transaction/getWalletTransactions"))
    }
}
