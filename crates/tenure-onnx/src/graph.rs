//! A small typed builder of ONNX graphs.
//!
//! Every node is typed as it is added, by the same inference the validator
//! runs over the finished model ([`crate::infer`]), so a wrong shape fails
//! where the node is built, and the declared output types are derived, never
//! written by hand. Model families (trees, linear models, and networks to
//! come) only chain calls on [`GraphBuilder`].

use std::collections::BTreeSet;

use crate::error::Result;
use crate::infer::{self, TensorType};
use crate::proto::{
    AttributeProto, GraphProto, NodeProto, TensorProto, TensorShapeProto, TypeProto,
    ValueInfoProto, attribute_proto::AttributeType, tensor_proto::DataType,
    tensor_shape_proto::Dimension, tensor_shape_proto::dimension, type_proto,
};

/// Domain of the classical machine-learning operators.
pub const ML_DOMAIN: &str = "ai.onnx.ml";

/// Element types the exporters use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elem {
    F32,
    F64,
    I64,
    Bool,
    /// UTF-8 strings (raw categorical levels).
    Str,
}

impl Elem {
    pub fn proto(self) -> i32 {
        (match self {
            Elem::F32 => DataType::Float,
            Elem::F64 => DataType::Double,
            Elem::I64 => DataType::Int64,
            Elem::Bool => DataType::Bool,
            Elem::Str => DataType::String,
        }) as i32
    }

    pub fn from_proto(t: i32) -> Option<Elem> {
        match DataType::try_from(t).ok()? {
            DataType::Float => Some(Elem::F32),
            DataType::Double => Some(Elem::F64),
            DataType::Int64 => Some(Elem::I64),
            DataType::Bool => Some(Elem::Bool),
            DataType::String => Some(Elem::Str),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Elem::F32 => "float32",
            Elem::F64 => "float64",
            Elem::I64 => "int64",
            Elem::Bool => "bool",
            Elem::Str => "string",
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, Elem::F32 | Elem::F64)
    }

    pub fn byte_size(self) -> usize {
        match self {
            Elem::F32 => 4,
            Elem::F64 | Elem::I64 => 8,
            Elem::Bool => 1,
            // Never stored as raw data: tenure has no string initializer.
            Elem::Str => 0,
        }
    }
}

/// One dimension of a shape: a number, or a name for a size known only at
/// run time (the batch dimension `N`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    Fixed(i64),
    Param(String),
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Param(p) => f.write_str(p),
        }
    }
}

/// A named tensor in the graph under construction.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub name: String,
    pub ty: TensorType,
}

impl Value {
    pub fn elem(&self) -> Elem {
        self.ty.elem
    }
}

#[derive(Debug)]
pub struct GraphBuilder {
    name: String,
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<ValueInfoProto>,
    names: BTreeSet<String>,
}

impl GraphBuilder {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            nodes: Vec::new(),
            initializers: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            names: BTreeSet::new(),
        }
    }

    /// `hint` itself when unused, else `hint_2`, `hint_3`, ...
    fn fresh(&mut self, hint: &str) -> String {
        let mut name = hint.to_string();
        let mut k = 1;
        while self.names.contains(&name) {
            k += 1;
            name = format!("{hint}_{k}");
        }
        self.names.insert(name.clone());
        name
    }

    /// Claims an exact name (a graph input or output): it must be free.
    fn claim(&mut self, name: &str) -> Result<String> {
        crate::error::ensure_valid!(
            self.names.insert(name.to_string()),
            name,
            "the name is used twice"
        );
        Ok(name.to_string())
    }

    pub fn input(&mut self, name: &str, ty: TensorType, doc: &str) -> Result<Value> {
        let name = self.claim(name)?;
        self.inputs.push(value_info(&name, &ty, doc));
        Ok(Value { name, ty })
    }

    /// A constant tensor stored as an initializer; `F32` rounds the values.
    pub fn constant(&mut self, hint: &str, elem: Elem, data: &[f64], dims: &[i64]) -> Value {
        let name = self.fresh(hint);
        self.initializers.push(match elem {
            Elem::F32 => tensor_f32(&name, data, dims),
            _ => tensor_f64(&name, data, dims),
        });
        Value {
            name,
            ty: TensorType {
                elem: if elem == Elem::F32 {
                    Elem::F32
                } else {
                    Elem::F64
                },
                shape: dims.iter().map(|&d| Dim::Fixed(d)).collect(),
            },
        }
    }

    /// An `int64` constant stored as an initializer.
    pub fn constant_i64(&mut self, hint: &str, data: &[i64], dims: &[i64]) -> Value {
        let name = self.fresh(hint);
        self.initializers.push(tensor_i64(&name, data, dims));
        Value {
            name,
            ty: TensorType {
                elem: Elem::I64,
                shape: dims.iter().map(|&d| Dim::Fixed(d)).collect(),
            },
        }
    }

    /// Adds a one-output node and returns its typed output, named `out`
    /// exactly when given (a graph output), else after `op`.
    pub fn node(
        &mut self,
        op: &str,
        domain: &str,
        inputs: &[&Value],
        attributes: Vec<AttributeProto>,
        out: Option<&str>,
    ) -> Result<Value> {
        let name = match out {
            Some(n) => self.claim(n)?,
            None => self.fresh(&op.to_lowercase()),
        };
        let node = NodeProto {
            input: inputs.iter().map(|v| v.name.clone()).collect(),
            output: vec![name.clone()],
            name: Some(self.fresh(&format!("{op}_node"))),
            op_type: Some(op.to_string()),
            domain: (!domain.is_empty()).then(|| domain.to_string()),
            attribute: attributes,
            ..NodeProto::default()
        };
        let input_types: Vec<&TensorType> = inputs.iter().map(|v| &v.ty).collect();
        let mut types = infer::node_types(&node, &input_types)?;
        self.nodes.push(node);
        Ok(Value {
            name,
            ty: types.remove(0),
        })
    }

    /// An operator of the default domain.
    pub fn op(&mut self, op: &str, inputs: &[&Value], out: Option<&str>) -> Result<Value> {
        self.node(op, "", inputs, Vec::new(), out)
    }

    pub fn cast(&mut self, x: &Value, to: Elem, out: Option<&str>) -> Result<Value> {
        self.node(
            "Cast",
            "",
            &[x],
            vec![attr_int("to", i64::from(to.proto()))],
            out,
        )
    }

    /// `x` under the name `out`, converted to `elem` on the way if needed.
    pub fn rename_as(&mut self, x: &Value, elem: Elem, out: &str) -> Result<Value> {
        if x.elem() == elem {
            self.op("Identity", &[x], Some(out))
        } else {
            self.cast(x, elem, Some(out))
        }
    }

    /// Declares `v` a graph output (it must carry its final name already).
    pub fn output(&mut self, v: &Value, doc: &str) {
        self.outputs.push(value_info(&v.name, &v.ty, doc));
    }

    pub fn finish(self, doc: &str) -> GraphProto {
        GraphProto {
            node: self.nodes,
            name: Some(self.name),
            initializer: self.initializers,
            doc_string: Some(doc.to_string()),
            input: self.inputs,
            output: self.outputs,
            ..GraphProto::default()
        }
    }
}

pub fn value_info(name: &str, ty: &TensorType, doc: &str) -> ValueInfoProto {
    let dims = ty
        .shape
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Dim::Fixed(n) => dimension::Value::DimValue(*n),
                Dim::Param(p) => dimension::Value::DimParam(p.clone()),
            }),
            ..Dimension::default()
        })
        .collect();
    ValueInfoProto {
        name: Some(name.to_string()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(ty.elem.proto()),
                shape: Some(TensorShapeProto { dim: dims }),
            })),
            ..TypeProto::default()
        }),
        doc_string: (!doc.is_empty()).then(|| doc.to_string()),
        ..ValueInfoProto::default()
    }
}

/// A double tensor with its data as little-endian `raw_data`, the compact
/// encoding (no per-value field tags).
pub fn tensor_f64(name: &str, data: &[f64], dims: &[i64]) -> TensorProto {
    TensorProto {
        dims: dims.to_vec(),
        data_type: Some(Elem::F64.proto()),
        name: (!name.is_empty()).then(|| name.to_string()),
        raw_data: Some(data.iter().flat_map(|v| v.to_le_bytes()).collect()),
        ..TensorProto::default()
    }
}

pub fn tensor_i64(name: &str, data: &[i64], dims: &[i64]) -> TensorProto {
    TensorProto {
        dims: dims.to_vec(),
        data_type: Some(Elem::I64.proto()),
        name: (!name.is_empty()).then(|| name.to_string()),
        raw_data: Some(data.iter().flat_map(|v| v.to_le_bytes()).collect()),
        ..TensorProto::default()
    }
}

/// A `uint8` tensor (attribute values such as tree node modes).
pub fn tensor_u8(name: &str, data: &[u8], dims: &[i64]) -> TensorProto {
    TensorProto {
        dims: dims.to_vec(),
        data_type: Some(DataType::Uint8 as i32),
        name: (!name.is_empty()).then(|| name.to_string()),
        raw_data: Some(data.to_vec()),
        ..TensorProto::default()
    }
}

pub fn tensor_f32(name: &str, data: &[f64], dims: &[i64]) -> TensorProto {
    TensorProto {
        dims: dims.to_vec(),
        data_type: Some(Elem::F32.proto()),
        name: (!name.is_empty()).then(|| name.to_string()),
        raw_data: Some(
            data.iter()
                .flat_map(|&v| (v as f32).to_le_bytes())
                .collect(),
        ),
        ..TensorProto::default()
    }
}

fn attribute(name: &str, kind: AttributeType) -> AttributeProto {
    AttributeProto {
        name: Some(name.to_string()),
        r#type: Some(kind as i32),
        ..AttributeProto::default()
    }
}

pub fn attr_int(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        i: Some(v),
        ..attribute(name, AttributeType::Int)
    }
}

pub fn attr_ints(name: &str, v: Vec<i64>) -> AttributeProto {
    AttributeProto {
        ints: v,
        ..attribute(name, AttributeType::Ints)
    }
}

pub fn attr_float(name: &str, v: f32) -> AttributeProto {
    AttributeProto {
        f: Some(v),
        ..attribute(name, AttributeType::Float)
    }
}

pub fn attr_floats(name: &str, v: Vec<f32>) -> AttributeProto {
    AttributeProto {
        floats: v,
        ..attribute(name, AttributeType::Floats)
    }
}

pub fn attr_strings(name: &str, v: &[String]) -> AttributeProto {
    AttributeProto {
        strings: v.iter().map(|s| s.as_bytes().to_vec()).collect(),
        ..attribute(name, AttributeType::Strings)
    }
}

pub fn attr_tensor(name: &str, t: TensorProto) -> AttributeProto {
    AttributeProto {
        t: Some(t),
        ..attribute(name, AttributeType::Tensor)
    }
}
