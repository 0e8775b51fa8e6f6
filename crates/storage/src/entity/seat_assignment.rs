//! Row shape of `seat_assignment`. One candidate (an admitted application) in one sitting: room, seat and ticket number.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "seat_assignment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    pub agency_code: String,
    pub application_id: i64,
    pub sitting_id: i64,
    pub room_id: i64,
    pub seat: i32,
    pub ticket_no: String,
    pub assigned_at: i64,
    /// The parallel form (1, 2, …) of the sitting's blueprint; `None` while it has no forms.
    pub form_number: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
