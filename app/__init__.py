"""The Streamlit app: one module per page; widgets become a ResNetSpec, pages call resnet_core and draw."""
